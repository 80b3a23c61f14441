"""Two-sample tests of drift: the texts' embeddings (MMD with a permutation p-value), each
structured field (chi-square or Kolmogorov–Smirnov), the predicted class rates and the
class mix estimated from the probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from casecast.models.outcome import CaseOutcomeClassifier

MISSING = "(missing)"
OTHER = "(other)"
# Categories seen fewer times than this in both samples together are merged, so that the
# chi-square test's expected counts stay large enough to trust.
MIN_CATEGORY_CASES = 10


@dataclass(frozen=True)
class EmbeddingShift:
    mmd2: float  # squared maximum mean discrepancy (biased estimate, Gaussian kernel)
    p_value: float  # share of label permutations with an MMD at least as large
    null: list[float]  # the permutations' MMDs (for the report's plot)
    reference_cases: int
    current_cases: int
    bandwidth: float  # the kernel's, by the median distance of the pooled sample

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        del out["null"]
        out["null_mean"] = float(np.mean(self.null))
        out["null_q99"] = float(np.quantile(self.null, 0.99))
        return out


def mmd_test(
    reference: np.ndarray, current: np.ndarray, permutations: int = 500, seed: int = 0
) -> EmbeddingShift:
    """Whether two samples of vectors come from one distribution: MMD² with a Gaussian
    kernel (median heuristic) and its permutation p-value. All permutations are scored in
    one matrix product (weights ±1/n of the pooled sample, one column per permutation)."""
    x, y = np.asarray(reference, np.float64), np.asarray(current, np.float64)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("the embedding test needs at least two cases on each side")
    pooled = np.vstack([x, y])
    squared = (pooled * pooled).sum(axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * pooled @ pooled.T, 0.0)
    upper = distances[np.triu_indices(len(pooled), k=1)]
    bandwidth = float(np.median(upper[upper > 0])) if (upper > 0).any() else 1.0
    kernel = np.exp(-distances / bandwidth)
    base = np.concatenate([np.full(len(x), 1 / len(x)), np.full(len(y), -1 / len(y))])
    rng = np.random.default_rng(seed)
    weights = np.column_stack([base, *(rng.permutation(base) for _ in range(permutations))])
    scores = np.einsum("ip,ip->p", weights, kernel @ weights)
    observed, null = float(scores[0]), scores[1:]
    p_value = float((1 + np.sum(null >= observed)) / (1 + permutations))
    return EmbeddingShift(observed, p_value, null.tolist(), len(x), len(y), bandwidth)


@dataclass(frozen=True)
class FieldShift:
    field: str
    kind: str  # "categorical" or "numeric"
    test: str  # "chi-square" or "Kolmogorov-Smirnov"
    statistic: float
    p_value: float
    effect: float  # total variation distance of the shares, or the KS statistic
    effect_name: str
    reference_shares: dict[str, float]  # categories' (or, for numbers, summary) figures
    current_shares: dict[str, float]
    missing_reference: float
    missing_current: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def categorical_shift(
    field: str, reference: Sequence[object], current: Sequence[object]
) -> FieldShift:
    """Chi-square test of homogeneity of a category's shares (missing values a category of
    their own; rare ones merged)."""
    ref, cur = _categories(reference), _categories(current)
    counts = pd.concat([ref, cur]).value_counts()
    rare = set(counts[counts < MIN_CATEGORY_CASES].index)
    ref, cur = (s.where(~s.isin(rare), OTHER) for s in (ref, cur))
    table = pd.DataFrame({"reference": ref.value_counts(), "current": cur.value_counts()})
    table = table.fillna(0.0)
    shares = table / table.sum(axis=0)
    effect = float(0.5 * (shares["reference"] - shares["current"]).abs().sum())
    if len(table) < 2:
        statistic, p_value = 0.0, 1.0
    else:
        result = stats.chi2_contingency(table.to_numpy().T)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    order = shares.sort_values("reference", ascending=False).index
    return FieldShift(
        field,
        "categorical",
        "chi-square",
        statistic,
        p_value,
        effect,
        "total variation",
        {str(k): float(shares.at[k, "reference"]) for k in order},
        {str(k): float(shares.at[k, "current"]) for k in order},
        float((ref == MISSING).mean()),
        float((cur == MISSING).mean()),
    )


def numeric_shift(field: str, reference: Sequence[object], current: Sequence[object]) -> FieldShift:
    """Two-sample Kolmogorov–Smirnov test on the values given (missing ones counted apart)."""
    ref = pd.to_numeric(pd.Series(list(reference), dtype=object), errors="coerce")
    cur = pd.to_numeric(pd.Series(list(current), dtype=object), errors="coerce")
    ref_values, cur_values = ref.dropna().to_numpy(), cur.dropna().to_numpy()
    if len(ref_values) and len(cur_values):
        result = stats.ks_2samp(ref_values, cur_values)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    else:
        statistic, p_value = 0.0, 1.0
    return FieldShift(
        field,
        "numeric",
        "Kolmogorov-Smirnov",
        statistic,
        p_value,
        statistic,
        "KS statistic",
        _summary(ref_values),
        _summary(cur_values),
        float(ref.isna().mean()),
        float(cur.isna().mean()),
    )


@dataclass(frozen=True)
class RateShift:
    classes: list[str]
    reference: list[float]  # predicted class rates (shares of cases decided as each class)
    current: list[float]
    total_variation: float
    p_value: float  # chi-square test of the decided classes' counts

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def class_rate_shift(
    classes: Sequence[str], reference: np.ndarray, current: np.ndarray
) -> RateShift:
    """The shares of cases each sample's probabilities decide as each class, compared."""
    counts = np.array(
        [np.bincount(p.argmax(axis=1), minlength=len(classes)) for p in (reference, current)],
        dtype=float,
    )
    shares = counts / counts.sum(axis=1, keepdims=True)
    seen = counts.sum(axis=0) > 0
    p_value = 1.0
    if seen.sum() >= 2:
        p_value = float(stats.chi2_contingency(counts[:, seen]).pvalue)
    return RateShift(
        [str(c) for c in classes],
        shares[0].round(4).tolist(),
        shares[1].round(4).tolist(),
        float(0.5 * np.abs(shares[0] - shares[1]).sum()),
        p_value,
    )


@dataclass(frozen=True)
class ClassMixShift:
    classes: list[str]
    reference: list[float]  # the reference's class shares, estimated from the probabilities
    estimated: list[float]  # the recent cases' shares, estimated the same way
    error: list[float]  # standard error of each share's difference
    shift: float  # the largest |estimated - reference| beyond two standard errors
    reference_known: list[float] | None = None  # the reference's label shares, when known

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def class_mix_shift(
    estimator: CaseOutcomeClassifier,
    classes: list[str],
    reference: np.ndarray,
    current: np.ndarray,
    reference_labels: Sequence[str] | None = None,
) -> ClassMixShift | None:
    """Both sides' class mix estimated from the same model's probabilities, so that the
    model's own bias cancels; the reference's known label shares are shown beside them."""
    ref, cur = (estimator.estimate_class_mix(p) for p in (reference, current))
    if ref is None or cur is None:
        return None
    error = np.sqrt(ref.error**2 + cur.error**2)
    beyond = np.abs(cur.shares - ref.shares) - 2 * error
    known = None
    if reference_labels is not None:
        counts = pd.Series(list(reference_labels)).value_counts(normalize=True)
        known = [round(float(counts.get(c, 0.0)), 4) for c in classes]
    return ClassMixShift(
        classes,
        np.round(ref.shares, 4).tolist(),
        np.round(cur.shares, 4).tolist(),
        np.round(error, 4).tolist(),
        float(max(beyond.max(), 0.0)),
        known,
    )


def _categories(values: Sequence[object]) -> pd.Series:
    series = pd.Series(list(values), dtype=object)
    missing = series.isna() | series.astype(str).str.strip().eq("")
    return series.astype(str).where(~missing, MISSING)


def _summary(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {}
    q = np.quantile(values, [0.1, 0.5, 0.9])
    return {"mean": float(values.mean()), "p10": float(q[0]), "median": float(q[1]),
            "p90": float(q[2])}  # fmt: skip
