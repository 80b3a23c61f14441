"""Classification metrics reported for every model, always beside the majority baseline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """ECE over equal-width confidence bins (top-label confidence vs. accuracy)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(total)


def classification_report(
    y_true: Sequence[str], probabilities: np.ndarray, classes: Sequence[str], positive: str
) -> dict[str, Any]:
    """``n``, macro-F1, accuracy, ROC-AUC, Brier, ECE, and the majority class's figures."""
    truth = np.asarray(y_true)
    labels = np.asarray(classes)
    predicted = labels[probabilities.argmax(axis=1)]
    positive_column = list(classes).index(positive)
    is_positive = (truth == positive).astype(float)
    majority = Counter(truth.tolist()).most_common(1)[0][0]
    majority_predicted = np.full_like(truth, majority)
    report: dict[str, Any] = {
        "n": len(truth),
        "macro_f1": float(f1_score(truth, predicted, average="macro", labels=labels)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "roc_auc": float(roc_auc_score(is_positive, probabilities[:, positive_column]))
        if 0 < is_positive.sum() < len(truth)
        else None,
        "brier": float(np.mean((probabilities[:, positive_column] - is_positive) ** 2)),
        "ece": expected_calibration_error(probabilities.max(axis=1), predicted == truth),
        "majority_class": str(majority),
        "majority_macro_f1": float(
            f1_score(truth, majority_predicted, average="macro", labels=labels)
        ),
        "majority_accuracy": float(accuracy_score(truth, majority_predicted)),
        "positive_rate": float(is_positive.mean()),
    }
    return report


def reliability_figure(
    y_true: Sequence[str],
    probabilities: np.ndarray,
    classes: Sequence[str],
    positive: str,
    title: str,
) -> Any:
    """A reliability diagram of P(positive) (matplotlib figure, for MLflow and model cards)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = probabilities[:, list(classes).index(positive)]
    y = (np.asarray(y_true) == positive).astype(float)
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
    centres, rates, counts = [], [], []
    for b in range(10):
        inside = which == b
        if inside.any():
            centres.append(p[inside].mean())
            rates.append(y[inside].mean())
            counts.append(int(inside.sum()))
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.plot(centres, rates, marker="o", label="model")
    for x, r, n in zip(centres, rates, counts, strict=True):
        axis.annotate(str(n), (x, r), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axis.set_xlabel(f"predicted P({positive})")
    axis.set_ylabel(f"observed rate of {positive}")
    axis.set_title(title)
    axis.legend(loc="upper left")
    figure.tight_layout()
    return figure
