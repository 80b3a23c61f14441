"""What the precedent index stores and answers: case summaries, passages, hits, filters and
the manifest of an index version."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FORMAT = 4  # 3: a whole-case keyword index beside the passages'; 4: a fusion ranker
LANGUAGE_MEANS = "language-means"
CURRENT = "CURRENT"
PASSAGES_PER_CASE = 3
RANK_DECAY = 0.25  # weight of a case's k-th best passage is RANK_DECAY ** (k - 1)
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
ANN_MIN_PASSAGES = 100_000  # below this, exact search is fast enough and exact
# Chosen with benchmarks/ann_search.py for recall@10 against exact search (docs/decisions.md).
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 200, 512
# A query's passages embedded for search, spread over it (8: see docs/decisions.md).
MAX_QUERY_PASSAGES = 8
ANN_CANDIDATES = 400  # passages fetched per query passage before filters and aggregation
Mode = Literal["semantic", "keyword", "hybrid"]
MODES: tuple[Mode, ...] = ("semantic", "keyword", "hybrid")


class IndexUnavailableError(RuntimeError):
    """No usable index on disk; the message says how to build one."""


class CaseNotIndexedError(LookupError):
    """The case asked for is not in the index."""


@dataclass(frozen=True)
class CaseSummary:
    case_id: str
    dataset: str
    title: str
    year: int | None
    court: str | None
    parties: list[str]
    outcome: str
    violated: list[str]
    examined: list[str]  # articles ruled on, violated or not
    n_paragraphs: int


@dataclass(frozen=True)
class Passage:
    paragraphs: tuple[int, int]  # 1-based, inclusive
    text: str
    score: float
    row: int = -1  # its row in the index's passage vectors
    # The query's passage it is closest to in meaning (1-based paragraphs of the query), for
    # a text query searched by meaning; None otherwise.
    query_paragraphs: tuple[int, int] | None = None
    query_text: str | None = None  # that query passage's text


@dataclass(frozen=True)
class PrecedentHit:
    case: CaseSummary
    score: float
    passages: list[Passage]


@dataclass(frozen=True)
class SearchFilters:
    respondent: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    outcome: str | None = None
    court: str | None = None
    articles: tuple[str, ...] = ()  # cases that ruled on any of these
    exclude_case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexManifest:
    dataset: str
    version: str
    embedding_model: str
    embedding_model_id: str
    embedding_max_seq_length: int
    data_fingerprint: str
    chunk_tokens: int
    chunk_overlap: int
    max_chunks_per_case: int
    n_cases: int
    n_chunks: int
    dimension: int
    built_at: str
    build_seconds: float
    language: str = "en"
    ann: str = "none"
    format: int = FORMAT
    sources: list[str] = field(default_factory=list)
    embedding_backend: str = "sentence-transformers"  # queries are embedded by the same one
    keyword_stemmer: str | None = None  # Snowball algorithm of the keyword indexes' words
    # "language-means": passage vectors stored less their mean, and a query's less its
    # language's mean, so that a query in another language meets the documents (index.py).
    centering: str | None = None
    # How hybrid ranks (fusion.py): "lambdarank", a fitted ranker; "rrf", one was fitted but
    # was not clearly better than rank fusion on its validation year; None, too few earlier
    # queries to try.
    fusion: str | None = None

    def directory(self, root: Path) -> Path:
        """Where this version lives under an index root."""
        return root / self.dataset / self.version
