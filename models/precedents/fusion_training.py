"""How a build fits hybrid search's fusion ranker, on earlier years' queries of the index
it has just written.

Training follows the evaluation's temporal split: the queries of the evaluation (the
latest ``EVALUATION_QUERIES`` decisions' years, ``held_out_year``) are never trained on;
the ranker learns from the ``FUSION_YEARS`` years before them, searching only the cases
decided earlier still, graded by the data set's relevance rule (what the decisions ruled
on, which search never reads). It is kept only when it is clearly better than RRF on the
last of those years.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from casecast.data.schema import Corpus, DecidedCase
from casecast.models.precedents.fusion import (
    FEATURES,
    FUSION_POOL,
    RANKER_INFO,
    FusionRanker,
    write_atomically,
)
from casecast.models.precedents.index import PrecedentIndex
from casecast.models.precedents.types import MAX_QUERY_PASSAGES, SearchFilters

FUSION_YEARS = 2  # years of queries before the held-out ones that the ranker learns from
MAX_FUSION_QUERIES = 1000
MIN_FUSION_QUERIES = 100  # fewer earlier queries than this: RRF, no ranker
EVALUATION_QUERIES = 200  # the evaluation's queries: the latest years holding this many
NDCG_AT = 10
VALIDATION_SES = 2.0  # standard errors of the paired gain a ranker must clear

Relevance = Callable[[DecidedCase, DecidedCase], int]


def held_out_year(years: Iterable[int | None], wanted: int = EVALUATION_QUERIES) -> int:
    """The latest year such that the decisions from it on number at least ``wanted``: the
    evaluation's queries come from there on, and no ranker is trained on them."""
    known = sorted((y for y in years if y), reverse=True)
    if not known:
        raise ValueError("no decision years to split on")
    return known[min(wanted, len(known)) - 1]


def temporal_queries(
    judged: Iterable[DecidedCase],
    candidates: Sequence[DecidedCase],
    years: tuple[int, int],
    relevance: Relevance,
    n_queries: int,
    seed: int = 0,
) -> list[DecidedCase]:
    """Up to ``n_queries`` cases decided in ``years`` (inclusive), drawn reproducibly, that
    have a relevant case among (a sample of) ``candidates``: a query nothing answers
    teaches and measures nothing."""
    sample = candidates[:: max(1, len(candidates) // 500)]
    first, last = years
    queries = [
        j
        for j in judged
        if first <= (j.record.decision_year or 0) <= last and any(relevance(j, c) for c in sample)
    ]
    if len(queries) > n_queries:
        rng = np.random.default_rng(seed)
        queries = [queries[i] for i in sorted(rng.choice(len(queries), n_queries, replace=False))]
    return queries


def judged_before(
    index: PrecedentIndex, corpus: Corpus, year: int
) -> tuple[dict[str, DecidedCase], list[DecidedCase]]:
    """Every case of ``corpus`` with its outcome by id, and the indexed ones decided before
    ``year``, in index order: a temporal split's candidates."""
    judged = {
        r.case_id: DecidedCase(r, o) for r, o in zip(corpus.records, corpus.outcomes, strict=True)
    }
    candidates = [
        judged[c.case_id]
        for c in index.cases
        if c.case_id in judged and c.year is not None and c.year < year
    ]
    return judged, candidates


@dataclass(frozen=True)
class FusionTraining:
    """How a build fits its ranker: the data set's relevance rule and the first held-out
    year (see the module docstring)."""

    relevance: Relevance
    held_out_from: int
    years: int = FUSION_YEARS
    max_queries: int = MAX_FUSION_QUERIES
    min_queries: int = MIN_FUSION_QUERIES
    validation_ses: float = VALIDATION_SES


def fit_fusion(
    index: PrecedentIndex,
    corpus: Corpus,
    training: FusionTraining,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any] | None:
    """Fit the ranker on earlier years' queries of ``index``; its training record, or None
    when too few queries. The ranker is kept (saved in the index's folder) only if, fitted
    on the earlier of those years, it orders the last year's queries better than RRF; the
    record is saved either way (``kind``: lambdarank or rrf)."""
    started = time.perf_counter()
    first, last = training.held_out_from - training.years, training.held_out_from - 1
    judged, candidates = judged_before(index, corpus, first)
    queries = temporal_queries(
        judged.values(), candidates, (first, last), training.relevance, training.max_queries
    )
    if len(queries) < training.min_queries or not candidates:
        return None
    if on_total is not None:
        on_total(len(queries))
    filters = SearchFilters(year_max=first - 1)
    pools: list[tuple[np.ndarray, np.ndarray, int]] = []  # features, grades, query year
    query_passages: list[int] = []
    for query in queries:
        vectors = index.embed_query(query.record.paragraphs)
        features, pool = index.fusion_inputs(vectors, query.record.text, filters)
        if len(pool):
            query_passages.append(len(vectors))
            grades = [training.relevance(query, judged[index.cases[p].case_id]) for p in pool]
            pools.append((features, np.asarray(grades), query.record.decision_year or 0))
        if progress is not None:
            progress(1)
    if len(pools) < training.min_queries:
        return None
    validation = _validate(pools, last, training.min_queries // 4, training.validation_ses)
    kind = "lambdarank" if validation["clearly_better"] else "rrf"
    ranker = _fit(pools) if kind == "lambdarank" else None
    info = {
        "kind": kind,
        "query_years": [first, last],
        "candidates_before": first,
        "n_queries": len(pools),
        "n_candidates": len(candidates),
        "pool": FUSION_POOL,
        "query_passages": MAX_QUERY_PASSAGES,  # features as a search with this budget reads
        # Shorter queries (a paragraph, a claimant's account) are unlike the whole cases it
        # learned from: RRF ranks them, and always a query of one passage (docs/decisions.md).
        "min_query_passages": max(2, int(np.percentile(query_passages, 5))),
        "features": list(FEATURES),
        "validation": validation,
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    if ranker is not None:
        ranker.save(index.directory, info)
    else:
        write_atomically(index.directory / RANKER_INFO, json.dumps(info, indent=2))
    return info


def _fit(pools: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> FusionRanker:
    return FusionRanker().fit(
        np.vstack([f for f, _, _ in pools]),
        np.concatenate([g for _, g, _ in pools]),
        [len(g) for _, g, _ in pools],
    )


def _validate(
    pools: Sequence[tuple[np.ndarray, np.ndarray, int]], year: int, least: int, ses: float
) -> dict[str, Any]:
    """nDCG@10 within the pool, on the queries of ``year``, of a ranker fitted on the
    earlier ones and of the RRF order, and whether the ranker is clearly better; a side
    with fewer than ``least`` queries (or no temporal split) cannot show it: RRF stays."""
    earlier = [p for p in pools if p[2] < year]
    later = [p for p in pools if p[2] >= year]
    figures: dict[str, Any] = {"year": year, "n_fit": len(earlier), "n_validation": len(later)}
    if len(earlier) < max(least, 2) or len(later) < max(least, 2):
        return {**figures, "learned_ndcg": 0.0, "rrf_ndcg": 0.0, "clearly_better": False}
    trial = _fit(earlier)
    learned, by_rank = [], []
    for features, grades, _ in later:
        order = np.argsort(-trial.predict(features), kind="stable")
        learned.append(ndcg(grades[order].tolist(), grades.tolist(), NDCG_AT))
        by_rank.append(ndcg(grades.tolist(), grades.tolist(), NDCG_AT))  # the pool's RRF order
    gains = np.asarray(learned) - np.asarray(by_rank)
    standard_error = float(gains.std(ddof=1) / np.sqrt(len(gains)))
    return {
        **figures,
        "learned_ndcg": round(float(np.mean(learned)), 4),
        "rrf_ndcg": round(float(np.mean(by_rank)), 4),
        "gain_standard_error": round(standard_error, 4),
        # Kept only when the paired gain is over two standard errors: a court is better served
        # by the plain fusion than by a ranker that may have learned noise.
        "clearly_better": bool(gains.mean() > ses * standard_error),
    }


def ndcg(grades_in_rank_order: list[int], all_grades: list[int], at: int) -> float:
    """Normalised discounted cumulative gain at ``at`` (gain ``2^grade - 1``)."""

    def dcg(grades: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:at]))

    ideal = dcg(sorted(all_grades, reverse=True))
    return dcg(grades_in_rank_order) / ideal if ideal > 0 else 0.0
