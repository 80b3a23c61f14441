"""Learned fusion at search time: the features a LambdaRank model reads to order the
candidates of a hybrid search, and the ranker itself (a scikit-learn estimator).

Hybrid search first fuses the whole-case semantic and keyword rankings by reciprocal rank
fusion (RRF); the ``FUSION_POOL`` best cases by RRF are then re-ordered by the ranker from
their semantic and keyword scores and ranks (blended, passages only, best passage, whole
case, whole-case BM25, passage BM25), the RRF score, their age against the newest candidate
and their length. Without a ranker (too few earlier queries, or none trained) RRF ranks.
How a build fits the ranker is ``fusion_training.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from casecast.models.precedents.types import RRF_K

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
RANKER_FILE, RANKER_INFO = "fusion.txt", "fusion.json"


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


class FusionRanker(BaseEstimator):
    """LightGBM LambdaRank over ``FEATURES``, graded as nDCG grades them (gain 2^g - 1).

    A scikit-learn estimator: parameters in ``__init__``, ``fit`` learns ``booster_``;
    saved beside the index it orders and loaded with it (``save``/``load``)."""

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
        check_is_fitted(self, "booster_")
        # One thread: a pool of 200 rows costs less than waking more.
        return np.asarray(self.booster_.predict(X, num_threads=1), dtype=np.float64)

    def save(self, directory: Path, info: Mapping[str, Any]) -> None:
        """The model and what it was trained on, each written atomically."""
        check_is_fitted(self, "booster_")
        write_atomically(directory / RANKER_FILE, self.booster_.model_to_string())
        info = {**info, "params": self.get_params()}
        write_atomically(directory / RANKER_INFO, json.dumps(info, indent=2))

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


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a scratch file: readers see old or new, whole."""
    scratch = path.parent / f".{path.name}.tmp"
    scratch.write_text(text)
    os.replace(scratch, path)
