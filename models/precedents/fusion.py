"""Learned fusion: a LambdaRank model that orders the candidates of a hybrid search from
every signal the index computes, fitted on earlier years' queries of the same index.

Hybrid search first fuses the whole-case semantic and keyword rankings by reciprocal rank
fusion (RRF); the ``FUSION_POOL`` best cases by RRF are then re-ordered by the ranker from
their semantic and keyword scores and ranks (blended, passages only, best passage, whole
case, whole-case BM25, passage BM25), the RRF score, their age against the newest candidate
and their length. Without a ranker (too few earlier queries, or none trained) RRF ranks.

Training follows the evaluation's temporal split: the queries of the evaluation (the
latest ``EVALUATION_QUERIES`` decisions' years, ``held_out_year``) are never trained on;
the ranker learns from the ``FUSION_YEARS`` years before them, searching only the cases
decided earlier still, graded by the data set's relevance rule (what the decisions ruled
on, which search never reads).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from casecast.data.schema import Corpus, DecidedCase
from casecast.models.precedents.types import MAX_QUERY_PASSAGES, RRF_K, SearchFilters

if TYPE_CHECKING:
    from casecast.models.precedents.index import PrecedentIndex

# Case-level signals a hybrid search computes, in feature order (index.py names them).
SIGNALS = (
    "semantic",  # whole case blended with its passages' matches: the semantic mode's score
    "semantic_passages",  # rank-weighted mean of the best passages' similarities
    "semantic_best_passage",
    "whole_case",  # cosine of the case's mean vector to the query's
    "keyword",  # BM25 over the whole case: the keyword mode's score
    "keyword_passages",
    "keyword_best_passage",
)
FEATURES = (
    *(f"{name}{suffix}" for name in SIGNALS for suffix in ("", "_rank")),
    "rrf",
    "years_before_newest",
    "log_passages",
    "semantic_below_best",
    "whole_case_below_best",
)
FUSION_POOL = 200  # cases re-ordered by the ranker (the best by RRF)
RANK_CAP = 5000  # ranks beyond this (or none) read as this
FUSION_YEARS = 2  # years of queries before the held-out ones that the ranker learns from
MAX_FUSION_QUERIES = 1000
MIN_FUSION_QUERIES = 100  # fewer earlier queries than this: RRF, no ranker
EVALUATION_QUERIES = 200  # the evaluation's queries: the latest years holding this many
RANKER_FILE, RANKER_INFO = "fusion.txt", "fusion.json"
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


def signal_ranks(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """1-based rank of each allowed case with a finite score; inf for the others."""
    ranks = np.full(len(scores), np.inf)
    found = np.flatnonzero(allowed & np.isfinite(scores))
    found = found[np.argsort(-scores[found], kind="stable")]
    ranks[found] = np.arange(1, len(found) + 1)
    return ranks


def fusion_features(
    signals: Mapping[str, np.ndarray],
    allowed: np.ndarray,
    years: np.ndarray,
    passages_per_case: np.ndarray,
    pool_size: int = FUSION_POOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(features of the pool, the pool's case positions, RRF score of every case)``; the
    pool is the ``pool_size`` best allowed cases by RRF of the semantic and keyword ranks."""
    ranks = {name: signal_ranks(signals[name], allowed) for name in SIGNALS}
    rrf = 1.0 / (RRF_K + ranks["semantic"]) + 1.0 / (RRF_K + ranks["keyword"])
    rrf[~allowed | (rrf <= 0)] = -np.inf
    found = np.flatnonzero(np.isfinite(rrf))
    pool = found[np.argsort(-rrf[found], kind="stable")[:pool_size]]
    columns: list[np.ndarray] = []
    for name in SIGNALS:
        values = signals[name]
        reached = np.isfinite(values[pool])
        if name.startswith("keyword"):  # BM25 has no scale: a share of the query's best
            best = values[allowed & np.isfinite(values)].max(initial=0.0)
            columns.append(np.where(reached, values[pool] / (best or 1.0), 0.0))
        else:
            columns.append(np.where(reached, values[pool], -1.0))
        columns.append(np.minimum(ranks[name][pool], RANK_CAP))
    dated = allowed & (years >= 0)
    newest = years[dated].max() if dated.any() else 0
    age = np.where(years[pool] >= 0, newest - years[pool], -1)
    semantic, whole = columns[0], columns[FEATURES.index("whole_case")]
    columns += [
        rrf[pool],
        age,
        np.log1p(passages_per_case[pool]),
        semantic - semantic.max(initial=-1.0),
        whole - whole.max(initial=-1.0),
    ]
    return np.stack(columns, axis=1).astype(np.float64), pool, rrf


class FusionRanker:
    """LightGBM LambdaRank over ``FEATURES``, graded as nDCG grades them (gain 2^g - 1)."""

    def __init__(
        self,
        n_estimators: int = 300,
        num_leaves: int = 15,
        learning_rate: float = 0.03,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.7,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "n_estimators", "num_leaves", "learning_rate", "min_child_samples", "subsample",
            "colsample_bytree", "random_state",
        )}  # fmt: skip

    def fit(self, X: np.ndarray, y: np.ndarray, group: Sequence[int]) -> FusionRanker:
        """``X`` rows of ``FEATURES``, ``y`` graded relevance, ``group`` rows per query."""
        import lightgbm

        top_grade = int(np.max(y)) if len(y) else 0
        model = lightgbm.LGBMRanker(
            objective="lambdarank",
            label_gain=[2.0**g - 1 for g in range(max(top_grade, 1) + 1)],
            lambdarank_truncation_level=20,
            subsample_freq=1,
            verbose=-1,
            **self.get_params(),
        )
        model.fit(np.asarray(X), np.asarray(y), group=list(group), feature_name=list(FEATURES))
        self.booster_ = model.booster_
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        # One thread: a pool of 200 rows costs less than waking more.
        return np.asarray(self.booster_.predict(X, num_threads=1), dtype=np.float64)

    def save(self, directory: Path, info: Mapping[str, Any]) -> None:
        """The model and what it was trained on, each written atomically."""
        _write_atomically(directory / RANKER_FILE, self.booster_.model_to_string())
        info = {**info, "params": self.get_params()}
        _write_atomically(directory / RANKER_INFO, json.dumps(info, indent=2))

    @classmethod
    def load(cls, directory: Path) -> tuple[FusionRanker, dict[str, Any]] | None:
        """The ranker saved in an index folder with its training record, or None."""
        if not (directory / RANKER_FILE).is_file():
            return None  # none fitted, or it did not beat RRF on its validation year
        import lightgbm

        info = json.loads((directory / RANKER_INFO).read_text())
        ranker = cls(**info.get("params", {}))
        try:
            ranker.booster_ = lightgbm.Booster(model_str=(directory / RANKER_FILE).read_text())
        except lightgbm.basic.LightGBMError as error:
            raise ValueError(f"fusion ranker in {directory} is unreadable ({error})") from error
        if ranker.booster_.feature_name() != list(FEATURES):
            raise ValueError(f"fusion ranker in {directory} reads other features: rebuild it")
        ranker.n_features_in_ = len(FEATURES)
        return ranker, info


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
        _write_atomically(index.directory / RANKER_INFO, json.dumps(info, indent=2))
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


def _write_atomically(path: Path, text: str) -> None:
    scratch = path.parent / f".{path.name}.tmp"
    scratch.write_text(text)
    os.replace(scratch, path)
