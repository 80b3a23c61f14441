"""How a query's vectors and words rank the stored cases, for each search mode.

Each passage scores its best match among the query's passages; a case scores a
rank-weighted mean of its best ``PASSAGES_PER_CASE`` passages (weights 1, 1/4, 1/16): the
best passage leads, and further matching passages lift a case above one that shares a
single stock paragraph. Semantic search also compares whole cases: a query of ``n``
passages weighs the similarity of the case's mean vector to the query's ``1 - 1/n`` and
its passage matches ``1/n`` (a whole case says what a dispute is about better than its
closest paragraph). Keyword search scores each case's whole text with BM25. Hybrid fuses
the two rankings: RRF, or the index's fusion ranker over RRF's best candidates for a query
as long as those it learned from. A query in another language than the indexed texts is
ranked by meaning alone, since no word of it can match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casecast.features.text import script_language
from casecast.models.precedents.files import query_tokens
from casecast.models.precedents.fusion import fusion_features
from casecast.models.precedents.scoring import (
    bm25_scores,
    case_top_scores,
    normalized,
    reciprocal_rank_fusion,
)
from casecast.models.precedents.stored import StoredIndex
from casecast.models.precedents.types import (
    ANN_CANDIDATES,
    HNSW_EF_SEARCH,
    Mode,
)


@dataclass(frozen=True)
class Ranking:
    """A query's case scores (``-inf``: not a candidate) in the mode searched, and each
    signal's passage scores (which order a case's passages when it is shown)."""

    mode: Mode
    scores: np.ndarray
    passage_scores: dict[str, np.ndarray]


def rank_cases(
    stored: StoredIndex,
    query_vectors: np.ndarray,
    query_text: str,
    allowed: np.ndarray,
    mode: Mode,
    passages_per_case: int,
    exact: bool = False,
    learned_fusion: bool = True,
) -> Ranking | None:
    """Every allowed case's score for the query; None when nothing can rank (no vectors and
    no indexed word)."""
    mode, per_mode, tokens = passage_scores(stored, query_vectors, query_text, allowed, mode, exact)
    if not per_mode:
        return None
    ranker = (
        stored.fusion
        if learned_fusion and mode == "hybrid" and like_fusion_queries(stored, query_vectors)
        else None
    )
    signals = case_signals(
        stored, per_mode, query_vectors, tokens, allowed, passages_per_case, ranker is not None
    )
    if mode != "hybrid":
        scores = signals[mode]
    elif ranker is not None and both_rank(signals):
        features, pool, scores = fusion_features(
            signals, allowed, stored.years, stored.passages_per_case
        )
        if len(pool):  # the pool in the ranker's order (1 and up), the rest by RRF (< 1)
            learned = ranker.predict(features)
            scores[pool] = 1.0 + learned - learned.min()
    else:
        scores = reciprocal_rank_fusion([signals[m] for m in per_mode])
    return Ranking(mode, scores, per_mode)


def like_fusion_queries(stored: StoredIndex, query_vectors: np.ndarray) -> bool:
    """Whether a query is as long as those the fusion ranker learned from (whole cases);
    a shorter one is ranked by RRF."""
    least = (stored.fusion_info or {}).get("min_query_passages", 1)
    return len(query_vectors) >= least


def passage_scores(
    stored: StoredIndex,
    query_vectors: np.ndarray,
    query_text: str,
    allowed: np.ndarray,
    mode: Mode,
    exact: bool,
) -> tuple[Mode, dict[str, np.ndarray], list[str]]:
    """The mode searched (hybrid reads meaning alone across languages), each of its
    signals' passage scores, and the query's keyword tokens."""
    passage_allowed = allowed[stored.chunk_case]
    per_mode: dict[str, np.ndarray] = {}
    if mode in ("semantic", "hybrid") and len(query_vectors):
        per_mode["semantic"] = semantic_passage_scores(
            stored, query_vectors, passage_allowed, exact
        )
    if mode == "hybrid" and len(query_vectors) and not same_language(stored, query_text):
        mode = "semantic"  # words cannot match across languages: meaning ranks alone
    manifest = stored.manifest
    tokens = (
        query_tokens(query_text, manifest.language, manifest.keyword_stemmer)
        if mode != "semantic"
        else []
    )
    if tokens:
        per_mode["keyword"] = bm25_scores(stored.keyword, tokens, passage_allowed, np.float32)
    return mode, per_mode, tokens


def case_signals(
    stored: StoredIndex,
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
    n_cases = len(stored)
    if "semantic" in per_mode:
        best, passages = case_top_scores(
            per_mode["semantic"], stored.chunk_case, n_cases, passages_per_case
        )
        whole_case = stored.case_centroids @ normalized(
            np.asarray(query_vectors, dtype=np.float32).mean(axis=0)
        )
        signals["semantic"] = blend_whole_cases(passages, whole_case, len(query_vectors), allowed)
        if detailed:
            signals.update(
                semantic_passages=passages,
                semantic_best_passage=best,
                whole_case=np.where(allowed, whole_case, -np.inf),
            )
    if "keyword" in per_mode:
        # A case's words are all of its text, not only the passages indexed for display.
        signals["keyword"] = bm25_scores(stored.case_keyword, tokens, allowed, np.float64)
        if detailed:
            best, passages = case_top_scores(
                per_mode["keyword"], stored.chunk_case, n_cases, passages_per_case
            )
            signals.update(keyword_passages=passages, keyword_best_passage=best)
    return signals


def semantic_passage_scores(
    stored: StoredIndex, query_vectors: np.ndarray, passage_allowed: np.ndarray, exact: bool
) -> np.ndarray:
    """Best similarity of each passage to any query passage; -inf where not a candidate."""
    queries = np.ascontiguousarray(query_vectors, dtype=np.float32)
    scores = np.full(len(stored.vectors), -np.inf, dtype=np.float32)
    # Filters that leave few passages make exact search cheap and ANN recall poor.
    if stored.ann is None or exact or passage_allowed.mean() < 0.2:
        rows = np.flatnonzero(passage_allowed)
        scores[rows] = (queries @ stored.vectors[rows].T).max(axis=0)
        return scores
    import faiss

    search_parameters = faiss.SearchParametersHNSW  # type: ignore[attr-defined]  # no stub
    params = search_parameters(efSearch=max(HNSW_EF_SEARCH, ANN_CANDIDATES))
    found_scores, found = stored.ann.search(queries, ANN_CANDIDATES, params=params)
    valid = found >= 0
    np.maximum.at(scores, found[valid], found_scores[valid])
    scores[~passage_allowed] = -np.inf
    return scores


def blend_whole_cases(
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
    # An allowed case that the passage search did not reach (ANN) matched no better than
    # the weakest case it did reach.
    reached = np.isfinite(passage_case_scores)
    floor = passage_case_scores[reached].min() if reached.any() else -1.0
    passages = np.where(reached, passage_case_scores, floor)
    blended = whole_case_weight * whole_case + (1.0 - whole_case_weight) * passages
    return np.where(allowed, blended, -np.inf)


def same_language(stored: StoredIndex, query_text: str) -> bool:
    """Whether a query is written in the indexed texts' language (by its letters)."""
    language = script_language(query_text)
    return language is None or language == stored.manifest.language


def both_rank(signals: dict[str, np.ndarray]) -> bool:
    """Whether meaning and words both found a case: the fusion ranker reads both rankings
    (a query none of whose words occur is ranked by meaning alone)."""
    return all(
        name in signals and np.isfinite(signals[name]).any() for name in ("semantic", "keyword")
    )
