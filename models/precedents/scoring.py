"""How passage and case scores are computed and combined: BM25, rank-weighted case scores,
rank fusion, case centroids, value lookups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from casecast.models.precedents.types import RANK_DECAY, RRF_K


def inverted(values_per_case: Iterable[Iterable[str]]) -> dict[str, np.ndarray]:
    """Upper-cased value -> positions of the cases that carry it."""
    positions: dict[str, list[int]] = {}
    for position, values in enumerate(values_per_case):
        for value in {v.strip().upper() for v in values if v and v.strip()}:
            positions.setdefault(value, []).append(position)
    return {value: np.asarray(rows, dtype=np.int64) for value, rows in positions.items()}


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def case_centroids(
    vectors: np.ndarray, chunk_case: np.ndarray, case_starts: np.ndarray
) -> np.ndarray:
    """Unit-length mean of each case's passage vectors (zeros for a case without any);
    passages are stored case by case from ``case_starts``."""
    has = np.bincount(chunk_case, minlength=len(case_starts)) > 0
    centroids = np.zeros((len(case_starts), vectors.shape[1]), dtype=np.float32)
    if len(vectors):
        centroids[has] = np.add.reduceat(vectors, case_starts[has], axis=0, dtype=np.float32)
    return normalized(centroids)


def reciprocal_rank_fusion(case_scores: Sequence[np.ndarray]) -> np.ndarray:
    """Sum over rankings of 1 / (RRF_K + rank); -inf for cases no ranking found."""
    fused = np.zeros(len(case_scores[0]))
    found = np.zeros(len(case_scores[0]), dtype=bool)
    for scores in case_scores:
        ranked = np.flatnonzero(np.isfinite(scores))
        ranked = ranked[np.argsort(-scores[ranked], kind="stable")]
        fused[ranked] += 1.0 / (RRF_K + np.arange(1, len(ranked) + 1))
        found[ranked] = True
    fused[~found] = -np.inf
    return fused


def case_top_scores(
    passage_scores: np.ndarray, chunk_case: np.ndarray, n_cases: int, top_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each case's best passage score, and the rank-weighted mean of its ``top_n`` best
    (weights ``RANK_DECAY ** (k - 1)``); -inf for cases with no candidate passage. Only the
    candidate passages are sorted: a semantic search reaches a few thousand of them."""
    rows = np.flatnonzero(np.isfinite(passage_scores))
    best = np.full(n_cases, -np.inf)
    weighted = np.full(n_cases, -np.inf)
    if not len(rows):
        return best, weighted
    values, cases = passage_scores[rows].astype(np.float64), chunk_case[rows]
    # By case, best passage first: one sort of case + (0.5 for the worst score .. 0 for the
    # best), several times faster than a two-key lexsort on a whole-case keyword query.
    low, high = values.min(), values.max()
    order = np.argsort(cases + 0.5 * (high - values) / ((high - low) or 1.0))
    values, cases = values[order], cases[order]
    starts = np.flatnonzero(np.r_[True, cases[1:] != cases[:-1]])
    rank = np.arange(len(cases)) - np.repeat(starts, np.diff(np.r_[starts, len(cases)]))
    kept = rank < top_n
    weight = RANK_DECAY ** rank[kept].astype(np.float64)
    sums = np.bincount(cases[kept], weights=weight * values[kept], minlength=n_cases)
    norms = np.bincount(cases[kept], weights=weight, minlength=n_cases)
    reached = norms > 0
    weighted[reached] = sums[reached] / norms[reached]
    best[cases[starts]] = values[starts]
    return best, weighted


def bm25_scores(engine: Any, tokens: list[str], allowed: np.ndarray, dtype: Any) -> np.ndarray:
    """BM25 score of each indexed text; -inf where no query word occurs or not allowed."""
    scores = np.asarray(engine.get_scores(tokens), dtype=dtype)
    scores[(scores <= 0) | ~allowed] = -np.inf
    return scores
