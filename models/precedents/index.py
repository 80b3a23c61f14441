"""The precedent index: every indexed passage of every past case, searchable by meaning
and by words.

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
  version was built (``fusion.py``), orders the best of them from every score and rank of
  both; an index without a ranker ranks by RRF. For a query in another language than the
  indexed texts (Kazakh or English over Russian decisions), the semantic ranking alone,
  since no word of it can match.

Each passage scores its best match among the query's passages; a case scores a
rank-weighted mean of its best ``PASSAGES_PER_CASE`` passages (weights 1, 1/4, 1/16): the
best passage leads, and further matching passages lift a case above one that shares a
single stock paragraph.

With a multilingual encoder (manifest ``centering``), stored passage vectors and a query's
are centred by language means (``languages.py``), so that queries in Kazakh or English meet
the Russian decisions they describe.

Semantic search also compares whole cases: the mean of a case's passage vectors against the
mean of the query's. A query of one passage is matched passage to passage; a query of ``n``
passages weighs the whole-case similarity ``1 - 1/n`` and its passage matches ``1/n``. A
whole case says what a dispute is about better than its single closest paragraph.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from casecast.data.schema import PARAGRAPH_SEPARATOR
from casecast.data.sections import pre_decision_paragraphs
from casecast.data.text import split_paragraphs
from casecast.features.chunking import Chunk, ParagraphChunker, spread_positions
from casecast.features.embedding import Role, SentenceEmbedder
from casecast.features.text import script_language
from casecast.models.precedents.files import (
    load_ann_index,
    load_keyword_index,
    query_tokens,
    read_line,
    read_manifest,
    word_tokens,
)
from casecast.models.precedents.fusion import FEATURES, FusionRanker, fusion_features
from casecast.models.precedents.languages import QueryCentring
from casecast.models.precedents.scoring import (
    bm25_scores,
    case_centroids,
    case_top_scores,
    inverted,
    normalized,
    reciprocal_rank_fusion,
)
from casecast.models.precedents.types import (
    ANN_CANDIDATES,
    CURRENT,
    FORMAT,
    HNSW_EF_SEARCH,
    MAX_QUERY_PASSAGES,
    MODES,
    PASSAGES_PER_CASE,
    CaseNotIndexedError,
    CaseSummary,
    IndexUnavailableError,
    Mode,
    Passage,
    PrecedentHit,
    SearchFilters,
)

# Words as bm25s's tokenizer finds them (two word characters or more).
_WORD = re.compile(r"(?u)\b\w\w+\b")
MARKED_WORDS = 12  # keyword matches shown per passage
DISTINCTIVE_SHARE = 0.1  # a word in more than this share of the cases marks nothing


class PrecedentIndex:
    """A loaded index version. Thread-safe for concurrent searches (read-only state)."""

    def __init__(self, directory: Path, embedding_cache: Path | None = None) -> None:
        self.directory = directory
        self.embedding_cache = embedding_cache
        self._query_lock = threading.Lock()
        self._case_df: np.ndarray | None = None
        self._query_side: tuple[SentenceEmbedder, ParagraphChunker] | None = None
        self._centring: QueryCentring | None = None
        try:
            self.manifest = read_manifest(directory)
            if self.manifest.format != FORMAT:
                raise ValueError(f"format {self.manifest.format}, this server reads {FORMAT}")
            self.vectors = np.load(directory / "vectors.npy")
            self.chunk_case = np.load(directory / "chunk_case.npy")
            self.chunk_span = np.load(directory / "chunk_span.npy")
            cases = json.loads((directory / "cases.json").read_text())
            self.cases = [CaseSummary(**c) for c in cases]
            self._passage_offsets = np.load(directory / "passages.offsets.npy")
            self._document_offsets = np.load(directory / "documents.offsets.npy")
            self.keyword = load_keyword_index(directory / "keyword")
            self.case_keyword = load_keyword_index(directory / "case_keyword")
            self.ann = (
                load_ann_index(directory / "ann.faiss") if self.manifest.ann != "none" else None
            )
            self.document_mean = (
                np.load(directory / "document_mean.npy") if self.manifest.centering else None
            )
            # Hybrid's learned fusion, where the build could fit one (fusion.py); else RRF.
            loaded = FusionRanker.load(directory)
            self.fusion, self.fusion_info = loaded if loaded else (None, None)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise IndexUnavailableError(
                f"precedent index at {directory} is unreadable ({error}): rebuild it with "
                f"`casecast index --dataset {directory.parent.name}`"
            ) from error
        sizes = {len(self.vectors), len(self.chunk_case), len(self.chunk_span),
                 len(self._passage_offsets) - 1, self.manifest.n_chunks}  # fmt: skip
        if len(sizes) != 1:
            raise IndexUnavailableError(
                f"precedent index at {directory} is inconsistent: rebuild it"
            )
        self._position = {c.case_id: i for i, c in enumerate(self.cases)}
        # Passages are stored case by case; each case's first row.
        self._case_starts = np.searchsorted(self.chunk_case, np.arange(len(self.cases)))
        self._passages_per_case = np.bincount(self.chunk_case, minlength=len(self.cases))
        self._years = np.asarray([c.year if c.year is not None else -1 for c in self.cases])
        # Filter masks are built from these once, so a search never loops over cases in Python.
        self._outcomes = np.asarray([c.outcome or "" for c in self.cases], dtype=object)
        self._courts = np.asarray([(c.court or "").upper() for c in self.cases], dtype=object)
        self._by_party = inverted(c.parties for c in self.cases)
        self._by_article = inverted(c.examined for c in self.cases)
        self.case_centroids = case_centroids(self.vectors, self.chunk_case, self._case_starts)

    @staticmethod
    def current_version(root: Path, dataset: str) -> str | None:
        """The version ``CURRENT`` names now (None when nothing was built)."""
        pointer = root / dataset / CURRENT
        return pointer.read_text().strip() if pointer.is_file() else None

    @classmethod
    def load(cls, root: Path, dataset: str, embedding_cache: Path | None = None) -> PrecedentIndex:
        """The ``CURRENT`` version of ``dataset``'s index, with its query encoder loaded and
        checked (``embedding_cache``: read and fill a cache with query vectors)."""
        pointer = root / dataset / CURRENT
        if not pointer.is_file():
            raise IndexUnavailableError(
                f"no precedent index for {dataset} in {root}: "
                f"run `casecast index --dataset {dataset}`"
            )
        index = cls(root / dataset / pointer.read_text().strip(), embedding_cache)
        index.query_side()
        return index

    def query_side(self) -> tuple[SentenceEmbedder, ParagraphChunker]:
        """The encoder and chunker the index was built with, loaded once; an encoder that
        loads as another model than the one recorded makes the index unusable."""
        with self._query_lock:
            if self._query_side is None:
                manifest = self.manifest
                try:
                    embedder = SentenceEmbedder(
                        model=manifest.embedding_model,
                        max_seq_length=manifest.embedding_max_seq_length,
                        cache_dir=self.embedding_cache,
                    ).fit()
                except RuntimeError as error:
                    raise IndexUnavailableError(str(error)) from error
                if (embedder.backend_, embedder.model_id_) != (
                    manifest.embedding_backend,
                    manifest.embedding_model_id,
                ):
                    raise IndexUnavailableError(
                        f"index {manifest.version} was built with {manifest.embedding_model_id}"
                        f" but {manifest.embedding_model} loads {embedder.model_id_} here: "
                        f"rebuild it with `casecast index --dataset {manifest.dataset}`"
                    )
                chunker = ParagraphChunker(manifest.chunk_tokens, manifest.chunk_overlap).fit()
                if self.document_mean is not None:
                    self._centring = QueryCentring.load(embedder, self.document_mean)
                self._query_side = (embedder, chunker)
            return self._query_side

    def embed_query(
        self,
        paragraphs: Sequence[str],
        max_passages: int = MAX_QUERY_PASSAGES,
        role: Role = "query",
    ) -> np.ndarray:
        """A query's passage vectors, chunked as the index's own passages (at most
        ``max_passages``, spread over the text, embedded in one batch) and embedded as
        queries (E5 reads a query with its own prefix; most other models see no difference)."""
        return self._embed_passages(
            self._query_passages(paragraphs, max_passages), paragraphs, role
        )

    def _query_passages(self, paragraphs: Sequence[str], max_passages: int) -> list[Chunk]:
        """The query's passages that are embedded: chunked as the index's own, spread."""
        chunks = self.query_side()[1].chunk(paragraphs)
        return [chunks[i] for i in spread_positions(len(chunks), max_passages)]

    def _embed_passages(
        self, chunks: Sequence[Chunk], paragraphs: Sequence[str], role: Role = "query"
    ) -> np.ndarray:
        vectors = self.query_side()[0].embed([chunk.text for chunk in chunks], role)
        if self._centring is None or not len(vectors):
            return vectors
        return self._centring(vectors, " ".join(paragraphs))

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
            chunks = self._query_passages(paragraphs, max_passages)
            vectors = self._embed_passages(chunks, paragraphs)
        hits = self.search(
            vectors, PARAGRAPH_SEPARATOR.join(paragraphs), k, filters, mode, exact=exact
        )
        return [self._beside_query(hit, vectors, chunks) for hit in hits] if chunks else hits

    def _beside_query(
        self, hit: PrecedentHit, vectors: np.ndarray, chunks: Sequence[Chunk]
    ) -> PrecedentHit:
        """Each passage of a hit with the query passage closest to it in meaning."""
        passages = []
        for passage in hit.passages:
            if passage.row < 0 or not len(vectors):
                passages.append(passage)
                continue
            best = chunks[int(np.argmax(vectors @ self.vectors[passage.row]))]
            span = (best.first_paragraph + 1, best.last_paragraph + 1)
            passages.append(
                dataclasses.replace(passage, query_paragraphs=span, query_text=best.text)
            )
        return dataclasses.replace(hit, passages=passages)

    def matching_words(
        self, query: str, passages: Sequence[str], most: int = MARKED_WORDS
    ) -> list[list[str]]:
        """For each passage, the words that match a word of ``query`` as the keyword search
        reads them (stop words dropped, the same stems) and that say something: found in
        at most a tenth of the cases, the ``most`` rarest, in the order they appear. A
        whole-case query shares nearly every word with any passage; these are the ones that
        carried its score."""
        language, stemmer = self.manifest.language, self.manifest.keyword_stemmer
        wanted = set(query_tokens(query, language, stemmer))
        found = [_WORD.findall(passage) for passage in passages]
        words = list(dict.fromkeys(word for words in found for word in words))
        if not wanted or not words:
            return [[] for _ in passages]
        frequency = self._case_frequency()
        vocabulary = self.case_keyword.vocab_dict
        limit = max(1, DISTINCTIVE_SHARE * self.manifest.n_cases)
        rarity: dict[str, int] = {}
        for word, tokens in zip(words, word_tokens(words, language, stemmer), strict=True):
            shared = [t for t in tokens if t in wanted and t in vocabulary]
            if shared:
                cases = min(int(frequency[vocabulary[t]]) for t in shared)
                if cases <= limit:
                    rarity[word] = cases
        marked = []
        for passage_words in found:
            present = list(dict.fromkeys(w for w in passage_words if w in rarity))
            keep = set(sorted(present, key=lambda w: rarity[w])[:most])
            marked.append([w for w in present if w in keep])
        return marked

    def _case_frequency(self) -> np.ndarray:
        """How many cases hold each keyword token (from the whole-case BM25 index)."""
        if self._case_df is None:
            self._case_df = np.diff(np.asarray(self.case_keyword.scores["indptr"]))
        return self._case_df

    def search_case(
        self,
        case_id: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
    ) -> list[PrecedentHit]:
        """More like an indexed case, from its stored vectors and words; itself excluded."""
        position = self.position(case_id)
        found = self.case(case_id)
        if position is None or found is None:
            raise CaseNotIndexedError(f"case {case_id} is not in the {self.manifest.dataset} index")
        filters = filters or SearchFilters()
        excluded = (*filters.exclude_case_ids, case_id)
        filters = dataclasses.replace(filters, exclude_case_ids=excluded)
        text = PARAGRAPH_SEPARATOR.join(found[1])
        return self.search(self.case_vectors(position), text, k, filters, mode)

    def __len__(self) -> int:
        return len(self.cases)

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
        allowed = self._allowed(filters or SearchFilters())
        if not allowed.any() or not len(self.cases):
            return []
        mode, per_mode, tokens = self._passage_scores(
            query_vectors, query_text, allowed, mode, exact
        )
        if not per_mode:
            return []
        ranker = (
            self.fusion
            if learned_fusion and mode == "hybrid" and self._like_fusion_queries(query_vectors)
            else None
        )
        signals = self._case_signals(
            per_mode, query_vectors, tokens, allowed, passages_per_case, detailed=ranker is not None
        )
        if mode != "hybrid":
            scores = signals[mode]
        elif ranker is not None and _both_rank(signals):
            features, pool, scores = fusion_features(
                signals, allowed, self._years, self._passages_per_case
            )
            if len(pool):  # the pool in the ranker's order (1 and up), the rest by RRF (< 1)
                learned = ranker.predict(features)
                scores[pool] = 1.0 + learned - learned.min()
        else:
            scores = reciprocal_rank_fusion([signals[m] for m in per_mode])
        candidates = np.flatnonzero(np.isfinite(scores))
        if not len(candidates):
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        # A case's passages are shown in the order its mode ranks passages (hybrid: the rank
        # fusion of their places in the case by meaning and by words).
        passage_orders = [per_mode[mode]] if mode != "hybrid" else list(per_mode.values())
        # Passage scores shown: semantic similarity where there is one, else BM25.
        shown = per_mode["semantic"] if "semantic" in per_mode else per_mode["keyword"]
        return [
            self._hit(int(c), float(scores[c]), passage_orders, shown, passages_per_case)
            for c in top
        ]

    def _like_fusion_queries(self, query_vectors: np.ndarray) -> bool:
        """Whether a query is as long as those the fusion ranker learned from (whole cases);
        a shorter one is ranked by RRF."""
        least = (self.fusion_info or {}).get("min_query_passages", 1)
        return len(query_vectors) >= least

    def fusion_inputs(
        self, query_vectors: np.ndarray, query_text: str, filters: SearchFilters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fusion ranker's features for a hybrid query's pool of candidates, and the pool
        (case positions); empty when the query has no vectors or no indexed word."""
        allowed = self._allowed(filters or SearchFilters())
        empty = (np.zeros((0, len(FEATURES))), np.zeros(0, dtype=np.int64))
        if not allowed.any():
            return empty
        mode, per_mode, tokens = self._passage_scores(
            query_vectors, query_text, allowed, "hybrid", exact=False
        )
        if mode != "hybrid" or len(per_mode) != 2:
            return empty
        signals = self._case_signals(
            per_mode, query_vectors, tokens, allowed, PASSAGES_PER_CASE, detailed=True
        )
        if not _both_rank(signals):
            return empty
        features, pool, _ = fusion_features(signals, allowed, self._years, self._passages_per_case)
        return features, pool

    def _passage_scores(
        self,
        query_vectors: np.ndarray,
        query_text: str,
        allowed: np.ndarray,
        mode: Mode,
        exact: bool,
    ) -> tuple[Mode, dict[str, np.ndarray], list[str]]:
        """The mode searched (hybrid reads meaning alone across languages), each of its
        signals' passage scores, and the query's keyword tokens."""
        passage_allowed = allowed[self.chunk_case]
        per_mode: dict[str, np.ndarray] = {}
        if mode in ("semantic", "hybrid") and len(query_vectors):
            per_mode["semantic"] = self._semantic_passage_scores(
                query_vectors, passage_allowed, exact
            )
        if mode == "hybrid" and len(query_vectors) and not self._same_language(query_text):
            mode = "semantic"  # words cannot match across languages: meaning ranks alone
        tokens = (
            query_tokens(query_text, self.manifest.language, self.manifest.keyword_stemmer)
            if mode != "semantic"
            else []
        )
        if tokens:
            per_mode["keyword"] = bm25_scores(self.keyword, tokens, passage_allowed, np.float32)
        return mode, per_mode, tokens

    def _case_signals(
        self,
        per_mode: dict[str, np.ndarray],
        query_vectors: np.ndarray,
        tokens: list[str],
        allowed: np.ndarray,
        passages_per_case: int,
        detailed: bool,
    ) -> dict[str, np.ndarray]:
        """Case scores from passage scores: ``semantic`` and ``keyword`` (each mode's), and
        with ``detailed`` every signal the fusion ranker reads (fusion.SIGNALS)."""
        signals: dict[str, np.ndarray] = {}
        n_cases = len(self.cases)
        if "semantic" in per_mode:
            best, passages = case_top_scores(
                per_mode["semantic"], self.chunk_case, n_cases, passages_per_case
            )
            whole_case = self.case_centroids @ normalized(
                np.asarray(query_vectors, dtype=np.float32).mean(axis=0)
            )
            signals["semantic"] = self._blend_whole_cases(
                passages, whole_case, len(query_vectors), allowed
            )
            if detailed:
                signals.update(
                    semantic_passages=passages,
                    semantic_best_passage=best,
                    whole_case=np.where(allowed, whole_case, -np.inf),
                )
        if "keyword" in per_mode:
            # A case's words are all of its text, not only the passages indexed for display.
            signals["keyword"] = bm25_scores(self.case_keyword, tokens, allowed, np.float64)
            if detailed:
                best, passages = case_top_scores(
                    per_mode["keyword"], self.chunk_case, n_cases, passages_per_case
                )
                signals.update(keyword_passages=passages, keyword_best_passage=best)
        return signals

    def position(self, case_id: str) -> int | None:
        return self._position.get(case_id)

    def _same_language(self, query_text: str) -> bool:
        """Whether a query is written in the indexed texts' language (by its letters)."""
        language = script_language(query_text)
        return language is None or language == self.manifest.language

    def case_vectors(self, position: int) -> np.ndarray:
        """The stored passage vectors of one case ("more like this" needs no new embedding)."""
        return self.vectors[self.chunk_case == position]

    def case(self, case_id: str) -> tuple[CaseSummary, list[str]] | None:
        position = self._position.get(case_id)
        if position is None:
            return None
        paragraphs = read_line(self.directory / "documents", self._document_offsets, position)
        return self.cases[position], paragraphs

    def _semantic_passage_scores(
        self, query_vectors: np.ndarray, passage_allowed: np.ndarray, exact: bool
    ) -> np.ndarray:
        """Best similarity of each passage to any query passage; -inf where not a candidate."""
        queries = np.ascontiguousarray(query_vectors, dtype=np.float32)
        scores = np.full(len(self.vectors), -np.inf, dtype=np.float32)
        # Filters that leave few passages make exact search cheap and ANN recall poor.
        if self.ann is None or exact or passage_allowed.mean() < 0.2:
            rows = np.flatnonzero(passage_allowed)
            scores[rows] = (queries @ self.vectors[rows].T).max(axis=0)
            return scores
        import faiss

        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, ANN_CANDIDATES))
        found_scores, found = self.ann.search(queries, ANN_CANDIDATES, params=params)
        valid = found >= 0
        np.maximum.at(scores, found[valid], found_scores[valid])
        scores[~passage_allowed] = -np.inf
        return scores

    def _blend_whole_cases(
        self,
        passage_case_scores: np.ndarray,
        whole_case: np.ndarray,
        n_query_passages: int,
        allowed: np.ndarray,
    ) -> np.ndarray:
        """Weigh whole-case similarity ``1 - 1/n`` against passage matches for a query of
        ``n`` passages (see the module docstring)."""
        whole_case_weight = 1.0 - 1.0 / n_query_passages
        if whole_case_weight == 0.0:
            return passage_case_scores
        # An allowed case that the passage search did not reach (ANN) matched no better
        # than the weakest case it did reach.
        reached = np.isfinite(passage_case_scores)
        floor = passage_case_scores[reached].min() if reached.any() else -1.0
        passages = np.where(reached, passage_case_scores, floor)
        blended = whole_case_weight * whole_case + (1.0 - whole_case_weight) * passages
        return np.where(allowed, blended, -np.inf)

    def _hit(
        self,
        case: int,
        score: float,
        passage_orders: Sequence[np.ndarray],
        shown: np.ndarray,
        n: int,
    ) -> PrecedentHit:
        start = self._case_starts[case]
        stop = self._case_starts[case + 1] if case + 1 < len(self.cases) else len(self.chunk_case)
        within = [order[start:stop] for order in passage_orders]
        order_by = within[0] if len(within) == 1 else reciprocal_rank_fusion(within)
        rows = [start + int(i) for i in np.argsort(-order_by, kind="stable")
                if np.isfinite(order_by[i])][:n]  # fmt: skip
        if not rows:  # found by words outside its indexed passages: show those in text order
            rows = list(range(start, stop))[:n]
        passages = [
            Passage(
                paragraphs=(int(self.chunk_span[r][0]) + 1, int(self.chunk_span[r][1]) + 1),
                text=read_line(self.directory / "passages", self._passage_offsets, r),
                score=round(float(shown[r]), 4) if np.isfinite(shown[r]) else 0.0,
                row=int(r),
            )
            for r in rows
        ]
        return PrecedentHit(self.cases[case], round(score, 4), passages)

    def _cases_with(self, inverted: dict[str, np.ndarray], values: Sequence[str]) -> np.ndarray:
        """Mask of the cases carrying any of ``values`` (case-insensitive)."""
        mask = np.zeros(len(self.cases), dtype=bool)
        for value in values:
            mask[inverted.get(value.strip().upper(), np.empty(0, dtype=np.int64))] = True
        return mask

    def _allowed(self, filters: SearchFilters) -> np.ndarray:
        allowed = np.ones(len(self.cases), dtype=bool)
        if filters.year_min is not None:
            allowed &= self._years >= filters.year_min
        if filters.year_max is not None:
            allowed &= (self._years <= filters.year_max) & (self._years >= 0)
        if filters.respondent:
            allowed &= self._cases_with(self._by_party, [filters.respondent])
        if filters.outcome:
            allowed &= self._outcomes == filters.outcome
        if filters.court:
            allowed &= self._courts == filters.court.upper()
        articles = [a for a in filters.articles if a.strip()]
        if articles:
            allowed &= self._cases_with(self._by_article, articles)
        for case_id in filters.exclude_case_ids:
            if case_id in self._position:
                allowed[self._position[case_id]] = False
        return allowed


def _both_rank(signals: dict[str, np.ndarray]) -> bool:
    """Whether meaning and words both found a case: the fusion ranker reads both rankings
    (a query none of whose words occur is ranked by meaning alone)."""
    return all(
        name in signals and np.isfinite(signals[name]).any() for name in ("semantic", "keyword")
    )
