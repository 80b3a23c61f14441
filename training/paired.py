"""Two versions' figures on the same held-out cases, with paired bootstrap intervals.

Each bootstrap draw is a vector of case weights (how often each case was drawn); every
metric is computed for all draws at once from those weights, so a thousand draws over a
few thousand cases, for each group, take well under a second. Both versions are scored on
the same draws: the interval is the difference's, not two intervals side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from casecast.training.scored import ScoredCases

DRAWS = 1000
BINS = 10
# Whether a larger value of a metric is better (ECE and Brier: smaller is).
HIGHER_IS_BETTER = {
    "macro_f1": True,
    "accuracy": True,
    "roc_auc": True,
    "article_micro_f1": True,
    "brier": False,
    "ece": False,
}


@dataclass(frozen=True)
class Difference:
    metric: str
    champion: float  # version a (the one compared against)
    challenger: float  # version b
    difference: float  # challenger - champion
    low: float  # 95% paired bootstrap interval of the difference
    high: float

    @property
    def worse_by_at_least(self) -> float:
        """How much worse the challenger is at the least, with 95% confidence (0 if it may
        not be worse at all): the side of the interval nearest to no difference."""
        if HIGHER_IS_BETTER[self.metric]:
            return max(0.0, -self.high)
        return max(0.0, self.low)


@dataclass(frozen=True)
class GroupComparison:
    kind: str
    group: str
    n: int
    differences: list[Difference] = field(default_factory=list)  # empty: too few to tell


def draw_weights(n: int, draws: int = DRAWS, seed: int = 0) -> np.ndarray:
    """(draws, n) counts: each row a resample of the n cases with replacement."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(float)


def metrics(cases: ScoredCases, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``cases`` for each row of ``weights`` (one row: the cases as they are)."""
    k = len(cases.classes)
    truth = np.eye(k)[cases.labels]
    predicted_index = cases.probabilities.argmax(axis=1)
    predicted = np.eye(k)[predicted_index]
    total = weights.sum(axis=1)
    found = {
        "accuracy": weights @ (cases.labels == predicted_index).astype(float) / total,
        "macro_f1": _macro_f1(weights, truth, predicted),
    }
    if cases.positive is not None:
        column = cases.classes.index(cases.positive)
        found["roc_auc"] = _auc(weights, truth[:, column], cases.probabilities[:, column])
        brier = (cases.probabilities[:, column] - truth[:, column]) ** 2
    else:
        per_class = [
            _auc(weights, truth[:, c], cases.probabilities[:, c])
            for c in range(k)
            if 0 < truth[:, c].sum() < len(truth)
        ]
        found["roc_auc"] = np.nanmean(np.vstack(per_class), axis=0) if per_class else _nan(weights)
        brier = ((cases.probabilities - truth) ** 2).sum(axis=1)
    found["brier"] = weights @ brier / total
    confidence = cases.probabilities.max(axis=1)
    correct = (cases.labels == predicted_index).astype(float)
    in_bin = np.eye(BINS)[
        np.clip(np.digitize(confidence, np.linspace(0, 1, BINS + 1)[1:-1]), 0, BINS - 1)
    ]
    found["ece"] = (
        np.abs(
            weights @ (in_bin * confidence[:, None]) - weights @ (in_bin * correct[:, None])
        ).sum(axis=1)
        / total
    )
    if cases.articles is not None and cases.predicted_articles is not None:
        found["article_micro_f1"] = _micro_f1(weights, cases.articles, cases.predicted_articles)
    return found


def compare_cases(
    champion: ScoredCases, challenger: ScoredCases, weights: np.ndarray
) -> list[Difference]:
    """Each metric of both, the difference, and its 95% interval over the draws."""
    as_they_are = np.ones((1, len(champion.case_ids)))
    point_a, point_b = metrics(champion, as_they_are), metrics(challenger, as_they_are)
    drawn_a, drawn_b = metrics(champion, weights), metrics(challenger, weights)
    found = []
    for name in point_a:
        if name not in point_b:
            continue
        spread = drawn_b[name] - drawn_a[name]
        spread = spread[~np.isnan(spread)]
        low, high = np.quantile(spread, [0.025, 0.975]) if len(spread) else (np.nan, np.nan)
        found.append(
            Difference(
                name,
                float(point_a[name][0]),
                float(point_b[name][0]),
                float(point_b[name][0] - point_a[name][0]),
                float(low),
                float(high),
            )
        )
    return found


def _macro_f1(weights: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Macro-F1 over the classes present in truth or predictions (scikit-learn's rule)."""
    true_positive = weights @ (truth * predicted)
    support = weights @ truth
    claimed = weights @ predicted
    denominator = support + claimed
    present = denominator > 0
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(denominator), where=present)
    return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _auc(weights: np.ndarray, positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """ROC-AUC with case weights: the weighted share of (positive, negative) pairs ordered
    right, ties counted half."""
    order = np.argsort(score, kind="mergesort")
    score, positive, weights = score[order], positive[order], weights[:, order]
    _, first, counts = np.unique(score, return_index=True, return_counts=True)
    negative_w = weights * (1 - positive)
    positive_w = weights * positive
    # Negative weight strictly below each tie group, and within it.
    group_negative = np.add.reduceat(negative_w, first, axis=1)
    below = np.cumsum(group_negative, axis=1) - group_negative
    group_positive = np.add.reduceat(positive_w, first, axis=1)
    right = (group_positive * (below + 0.5 * group_negative)).sum(axis=1)
    pairs = positive_w.sum(axis=1) * negative_w.sum(axis=1)
    del counts
    return np.divide(right, pairs, out=np.full_like(right, np.nan), where=pairs > 0)


def _micro_f1(weights: np.ndarray, truth: list[set[str]], predicted: list[set[str]]) -> np.ndarray:
    hits = np.asarray([len(t & p) for t, p in zip(truth, predicted, strict=True)], dtype=float)
    extra = np.asarray([len(p - t) for t, p in zip(truth, predicted, strict=True)], dtype=float)
    missed = np.asarray([len(t - p) for t, p in zip(truth, predicted, strict=True)], dtype=float)
    tp, fp, fn = weights @ hits, weights @ extra, weights @ missed
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def _nan(weights: np.ndarray) -> np.ndarray:
    return np.full(weights.shape[0], np.nan)


MetricFunction = Callable[[ScoredCases, np.ndarray], dict[str, np.ndarray]]
