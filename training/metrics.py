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
    return float(_binned_gaps(np.asarray(confidence, dtype=float), correct, bins)[0])


def _confidence_bins(confidence: np.ndarray, bins: int = 10) -> np.ndarray:
    """Each confidence's equal-width bin, 0 to ``bins - 1`` (1.0 in the last)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)


def _binned_gaps(confidence: np.ndarray, correct: np.ndarray, bins: int) -> np.ndarray:
    """ECE of each row of ``correct`` (one row, or one per draw) at these confidences: per
    bin, |sum of confidences - correct count| / n, summed over the bins."""
    if not len(confidence):
        return np.zeros(np.atleast_2d(correct).shape[0])
    in_bin = np.eye(bins)[_confidence_bins(confidence, bins)]
    hits = np.atleast_2d(np.asarray(correct, dtype=float)) @ in_bin
    return np.abs(confidence @ in_bin - hits).sum(axis=1) / len(confidence)


def ece_if_calibrated(
    confidence: np.ndarray, bins: int = 10, draws: int = 400, seed: int = 0
) -> tuple[float, float]:
    """The ECE a perfectly calibrated model with these confidences would show on this many
    cases (sampling noise alone): its mean and 90th percentile over ``draws`` outcomes drawn
    at those confidences. An ECE near it says nothing about miscalibration; on a few hundred
    cases it is several points."""
    confidence = np.asarray(confidence, dtype=float)
    if not len(confidence):
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    errors = _binned_gaps(confidence, rng.random((draws, len(confidence))) < confidence, bins)
    return float(errors.mean()), float(np.quantile(errors, 0.9))


def calibration_scores(
    y_true: Sequence[str] | np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str] | np.ndarray,
    positive: str | None,
) -> dict[str, float]:
    """Brier score and ECE: binary tasks score ``positive``'s probability, multi-class tasks
    the sum over classes; ECE compares the top class's probability with its accuracy, beside
    ``ece_if_calibrated`` (and its 90th percentile): what sampling noise alone gives."""
    truth = np.asarray(y_true)
    one_hot = (truth[:, None] == np.asarray(classes)[None, :]).astype(float)
    if positive is not None:
        column = list(classes).index(positive)
        brier = float(np.mean((probabilities[:, column] - one_hot[:, column]) ** 2))
    else:
        brier = float(np.mean(((probabilities - one_hot) ** 2).sum(axis=1)))
    correct = one_hot[np.arange(len(truth)), probabilities.argmax(axis=1)] == 1
    confidence = probabilities.max(axis=1)
    noise, noise_90 = ece_if_calibrated(confidence)
    return {
        "brier": brier,
        "ece": expected_calibration_error(confidence, correct),
        "ece_if_calibrated": noise,
        "ece_if_calibrated_90": noise_90,
    }


def classification_report(
    y_true: Sequence[str] | np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str] | np.ndarray,
    positive: str | None,
) -> dict[str, Any]:
    """``n``, macro-F1, accuracy, ROC-AUC, Brier, ECE, and the majority class's figures.

    Binary tasks score ``positive``'s probability (ROC-AUC, Brier); multi-class tasks report
    the one-vs-rest macro ROC-AUC and the multi-class Brier score (sum over classes).
    """
    truth = np.asarray(y_true)
    labels = np.asarray(classes)
    predicted = labels[probabilities.argmax(axis=1)]
    one_hot = (truth[:, None] == labels[None, :]).astype(float)
    majority = Counter(truth.tolist()).most_common(1)[0][0]
    majority_predicted = np.full_like(truth, majority)
    if positive is not None:
        column = list(classes).index(positive)
        scored = one_hot[:, column]
        roc_auc = (
            float(roc_auc_score(scored, probabilities[:, column]))
            if 0 < scored.sum() < len(truth)
            else None
        )
    else:
        present = one_hot.sum(axis=0) > 0
        roc_auc = (
            float(roc_auc_score(one_hot[:, present], probabilities[:, present], average="macro"))
            if present.sum() > 1 and (one_hot[:, present].sum(axis=0) < len(truth)).all()
            else None
        )
    calibration = calibration_scores(truth, probabilities, classes, positive)
    return {
        "n": len(truth),
        # Macro over the classes present in truth or predictions (sklearn's convention).
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "accuracy": float(accuracy_score(truth, predicted)),
        "roc_auc": roc_auc,
        "brier": calibration["brier"],
        "ece": calibration["ece"],
        "ece_if_calibrated": calibration["ece_if_calibrated"],
        "ece_if_calibrated_90": calibration["ece_if_calibrated_90"],
        "majority_class": str(majority),
        "majority_macro_f1": float(f1_score(truth, majority_predicted, average="macro")),
        "majority_accuracy": float(accuracy_score(truth, majority_predicted)),
        "positive_rate": float(one_hot[:, list(classes).index(positive)].mean())
        if positive is not None
        else None,
    }


def multilabel_report(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Micro- and macro-F1 over ``labels`` (the modelled articles), with per-label F1.

    Also the baseline that predicts every case's most frequent label, so a figure is never
    read without one.
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions must have the same length")
    y_true = np.asarray([[label in set(row) for label in labels] for row in truth], dtype=bool)
    y_pred = np.asarray([[label in set(row) for label in labels] for row in predicted], dtype=bool)
    y_true = y_true.reshape(len(truth), len(labels))
    y_pred = y_pred.reshape(len(truth), len(labels))
    baseline = np.zeros_like(y_true)
    if len(labels):
        baseline[:, y_true.sum(axis=0).argmax()] = True
    per_label = _f1(y_true, y_pred, axis=0)
    return {
        "n": len(truth),
        "labels": list(labels),
        "micro_f1": float(_f1(y_true.ravel(), y_pred.ravel(), axis=0)),
        "macro_f1": float(per_label.mean()) if len(labels) else 0.0,
        "most_frequent_micro_f1": float(_f1(y_true.ravel(), baseline.ravel(), axis=0)),
        "per_label": {
            label: {"f1": float(f1), "support": int(support)}
            for label, f1, support in zip(labels, per_label, y_true.sum(axis=0), strict=True)
        },
    }


def _f1(truth: np.ndarray, predicted: np.ndarray, axis: int) -> np.ndarray:
    """F1 along ``axis`` (0 where a label is neither true nor predicted). sklearn reads a
    one-column indicator matrix as a binary vector, so this is counted by hand."""
    tp = (truth & predicted).sum(axis=axis)
    denominator = truth.sum(axis=axis) + predicted.sum(axis=axis)
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def reliability_figure(
    y_true: Sequence[str] | np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str] | np.ndarray,
    positive: str | None,
    title: str,
) -> Any:
    """A reliability diagram (matplotlib figure, for MLflow and model cards): P(positive) for
    binary tasks, the predicted class's confidence for multi-class ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = np.asarray(y_true)
    if positive is not None:
        p = probabilities[:, list(classes).index(positive)]
        y = (truth == positive).astype(float)
        x_label, y_label = f"predicted P({positive})", f"observed rate of {positive}"
    else:
        p = probabilities.max(axis=1)
        y = (np.asarray(classes)[probabilities.argmax(axis=1)] == truth).astype(float)
        x_label, y_label = "confidence of the predicted class", "observed accuracy"
    which = _confidence_bins(p, 10)
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
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    axis.set_title(title)
    axis.legend(loc="upper left")
    figure.tight_layout()
    return figure
