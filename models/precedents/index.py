"""The precedent index as searched: every indexed passage of every past case, searchable by
meaning and by words.

On disk, one folder per version (data fingerprint + embedding model + chunking) under
``<index_dir>/<dataset>/``, and a ``CURRENT`` file naming the version being served. A build
writes a scratch folder and renames it into place, then swaps ``CURRENT`` atomically: a
crashed build leaves the previous index serving.

Three ways to search the same passages:

- ``semantic``: cosine similarity of passage embeddings. Exact (one matrix product) for
  small corpora and whenever asked; an HNSW graph (FAISS) above ``ANN_MIN_PASSAGES``.
- ``keyword``: BM25 (bm25s) over each case's whole text, for precise legal terms; a case's
  indexed passages are scored by BM25 too, to show where its words match.
- ``hybrid`` (default): the two case rankings fused. Reciprocal rank fusion (RRF) picks
  the candidates, and the index's fusion ranker, fitted on earlier years' queries when the
  version was built (``fusion_training.py``), orders the best of them; an index without a
  ranker ranks by RRF.

With a multilingual encoder (manifest ``centering``), stored passage vectors and a query's
are centred by language means (``languages.py``), so that queries in Kazakh or English meet
the Russian decisions they describe.

This class composes one module per job: ``stored`` (the files, read and checked), ``query``
(the encoder's lifecycle), ``filters`` (which cases may be returned), ``ranking`` (the
scores), ``results`` (the hits) and ``highlight`` (what a hit shows of the query).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from casecast.data.schema import PARAGRAPH_SEPARATOR
from casecast.data.sections import pre_decision_paragraphs
from casecast.data.text import split_paragraphs
from casecast.features.chunking import Chunk, ParagraphChunker
from casecast.features.embedding import Role, SentenceEmbedder
from casecast.models.precedents import highlight
from casecast.models.precedents.filters import CaseFilter
from casecast.models.precedents.fusion import FEATURES, fusion_features
from casecast.models.precedents.query import QueryEncoder
from casecast.models.precedents.ranking import both_rank, case_signals, passage_scores, rank_cases
from casecast.models.precedents.results import top_hits
from casecast.models.precedents.stored import StoredIndex
from casecast.models.precedents.types import (
    MAX_QUERY_PASSAGES,
    MODES,
    PASSAGES_PER_CASE,
    CaseNotIndexedError,
    CaseSummary,
    Mode,
    PrecedentHit,
    SearchFilters,
)


class PrecedentIndex:
    """A loaded index version. Thread-safe for concurrent searches (read-only state)."""

    def __init__(self, directory: Path, embedding_cache: Path | None = None) -> None:
        self.stored = StoredIndex(directory)
        self.filter = CaseFilter(self.stored.cases)
        self.encoder = QueryEncoder(
            self.stored.manifest, self.stored.document_mean, embedding_cache
        )
        self.directory = directory
        self.manifest = self.stored.manifest
        self.cases: list[CaseSummary] = self.stored.cases
        self.fusion_info = self.stored.fusion_info

    @staticmethod
    def current_version(root: Path, dataset: str) -> str | None:
        """The version ``CURRENT`` names now (None when nothing was built)."""
        return StoredIndex.current_version(root, dataset)

    @classmethod
    def load(cls, root: Path, dataset: str, embedding_cache: Path | None = None) -> PrecedentIndex:
        """The ``CURRENT`` version of ``dataset``'s index, with its query encoder loaded and
        checked (``embedding_cache``: read and fill a cache with query vectors)."""
        index = cls(StoredIndex.current(root, dataset).directory, embedding_cache)
        index.query_side()
        return index

    def __len__(self) -> int:
        return len(self.cases)

    def query_side(self) -> tuple[SentenceEmbedder, ParagraphChunker]:
        """The encoder and chunker the index was built with, loaded and checked once."""
        return self.encoder.load()

    def embed_query(
        self,
        paragraphs: Sequence[str],
        max_passages: int = MAX_QUERY_PASSAGES,
        role: Role = "query",
    ) -> np.ndarray:
        """A query's passage vectors, chunked as the index's own passages (at most
        ``max_passages``, spread over the text, embedded in one batch)."""
        return self.encoder.embed(self.encoder.passages(paragraphs, max_passages), paragraphs, role)

    def search_text(
        self,
        text: str | Sequence[str],
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        max_passages: int = MAX_QUERY_PASSAGES,
        exact: bool = False,
    ) -> list[PrecedentHit]:
        """The cases closest to a text (or to its paragraphs, already split)."""
        paragraphs = split_paragraphs(text) if isinstance(text, str) else list(text)
        # A pasted decision is searched by its facts, as the indexed ones are; an account of
        # facts that the parser would empty is searched as written.
        paragraphs = pre_decision_paragraphs(paragraphs, self.manifest.language) or paragraphs
        vectors = np.zeros((0, self.manifest.dimension), dtype=np.float32)
        chunks: list[Chunk] = []
        if mode != "keyword":
            chunks = self.encoder.passages(paragraphs, max_passages)
            vectors = self.encoder.embed(chunks, paragraphs)
        hits = self.search(
            vectors, PARAGRAPH_SEPARATOR.join(paragraphs), k, filters, mode, exact=exact
        )
        if not chunks:
            return hits
        return [highlight.beside_query(self.stored, hit, vectors, chunks) for hit in hits]

    def search_case(
        self,
        case_id: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
    ) -> list[PrecedentHit]:
        """More like an indexed case, from its stored vectors and words; itself excluded."""
        position = self.position(case_id)
        if position is None:
            raise CaseNotIndexedError(f"case {case_id} is not in the {self.manifest.dataset} index")
        filters = filters or SearchFilters()
        excluded = (*filters.exclude_case_ids, case_id)
        filters = dataclasses.replace(filters, exclude_case_ids=excluded)
        text = PARAGRAPH_SEPARATOR.join(self.stored.paragraphs(position))
        return self.search(self.case_vectors(position), text, k, filters, mode)

    def search(
        self,
        query_vectors: np.ndarray,
        query_text: str = "",
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        passages_per_case: int = PASSAGES_PER_CASE,
        exact: bool = False,
        learned_fusion: bool = True,
    ) -> list[PrecedentHit]:
        """The ``k`` cases closest to the query, each with its best passages. Hybrid ranks by
        the index's fusion ranker where it has one (``learned_fusion=False``: by RRF)."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose from {', '.join(MODES)}")
        allowed = self.filter.allowed(filters or SearchFilters())
        if not allowed.any() or not len(self.cases):
            return []
        ranking = rank_cases(
            self.stored,
            query_vectors,
            query_text,
            allowed,
            mode,
            passages_per_case,
            exact,
            learned_fusion,
        )
        return top_hits(self.stored, ranking, k, passages_per_case) if ranking else []

    def fusion_inputs(
        self, query_vectors: np.ndarray, query_text: str, filters: SearchFilters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fusion ranker's features for a hybrid query's pool of candidates, and the pool
        (case positions); empty when the query has no vectors or no indexed word."""
        allowed = self.filter.allowed(filters or SearchFilters())
        empty = (np.zeros((0, len(FEATURES))), np.zeros(0, dtype=np.int64))
        if not allowed.any():
            return empty
        mode, per_mode, tokens = passage_scores(
            self.stored, query_vectors, query_text, allowed, "hybrid", exact=False
        )
        if mode != "hybrid" or len(per_mode) != 2:
            return empty
        signals = case_signals(
            self.stored, per_mode, query_vectors, tokens, allowed, PASSAGES_PER_CASE, True
        )
        if not both_rank(signals):
            return empty
        stored = self.stored
        features, pool, _ = fusion_features(
            signals, allowed, stored.years, stored.passages_per_case
        )
        return features, pool

    def matching_words(
        self, query: str, passages: Sequence[str], most: int = highlight.MARKED_WORDS
    ) -> list[list[str]]:
        """For each passage, the distinctive words of ``query`` it holds (``highlight``)."""
        return highlight.matching_words(self.stored, query, passages, most)

    def position(self, case_id: str) -> int | None:
        return self.stored.positions.get(case_id)

    def case_vectors(self, position: int) -> np.ndarray:
        """The stored passage vectors of one case ("more like this" needs no new embedding)."""
        return self.stored.case_vectors(position)

    def case(self, case_id: str) -> tuple[CaseSummary, list[str]] | None:
        """An indexed case's summary and every paragraph of it."""
        position = self.position(case_id)
        if position is None:
            return None
        return self.cases[position], self.stored.paragraphs(position)
