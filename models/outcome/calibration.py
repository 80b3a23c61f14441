"""Calibration on a temporal hold-out: a temperature, and what restating for another class
mix needs (the hold-out's decision rates per true class)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from casecast.models.class_mix import (
    ClassMix,
    class_mix_error,
    decision_rates,
    estimate_class_mix,
    reweight,
)
from casecast.models.outcome.stack import HoldoutSplit

MIN_CALIBRATION_CASES = 40


def time_order(inputs: pd.DataFrame, time_column: str | None) -> np.ndarray:
    """Case rows from earliest to latest (stable; unknown dates count as earliest)."""
    if time_column and time_column in inputs:
        when = pd.to_numeric(inputs[time_column], errors="coerce").fillna(-np.inf)
        return np.argsort(when.to_numpy(), kind="stable")
    return np.arange(len(inputs))


def latest_holdout(
    target: np.ndarray, order: np.ndarray, fraction: float, n_classes: int
) -> HoldoutSplit | None:
    """The latest ``fraction`` of cases (by ``order``) and the rest, or None when either side
    is too small, the earlier cases miss a class, or the hold-out has a single one."""
    n_holdout = round(len(order) * fraction)
    if n_holdout < MIN_CALIBRATION_CASES or len(order) - n_holdout < MIN_CALIBRATION_CASES:
        return None
    split = HoldoutSplit(np.sort(order[:-n_holdout]), np.sort(order[-n_holdout:]))
    if len(np.unique(target[split.earlier])) < n_classes:
        return None
    if len(np.unique(target[split.holdout])) < 2:
        return None
    return split


class TemperatureCalibrator(BaseEstimator):
    """One temperature over the stack's log-probabilities, learnt on hold-out cases.

    A temperature sharpens or softens without moving the decision boundary, so a balanced
    model's 0.5 threshold survives it. ``balanced`` weighs the hold-out's classes equally in
    the log-loss, so the temperature does not depend on the hold-out's class mix.
    """

    def __init__(self, balanced: bool = True, bounds: tuple[float, float] = (0.05, 20.0)) -> None:
        self.balanced = balanced
        self.bounds = bounds

    def fit(
        self,
        log_proba: np.ndarray,
        truth: np.ndarray,
        training_mix: np.ndarray | None = None,
        holdout_from: int | None = None,
        decisions: np.ndarray | None = None,
    ) -> TemperatureCalibrator:
        """Learn on the hold-out's ``log_proba`` and true class codes ``truth``.

        ``training_mix`` is the class mix an unbalanced model's probabilities answer for (its
        training cases'); ``holdout_from`` the hold-out's first year, for the record;
        ``decisions`` the classes the model decides for the hold-out where they are not the
        argmax of ``log_proba`` (outcomes a case's fields rule out).
        """
        n_classes = log_proba.shape[1]
        counts = np.bincount(truth, minlength=n_classes).astype(float)
        weights = 1.0 / counts[truth] if self.balanced else np.ones(len(truth))

        def nll(temperature: float) -> float:
            scaled = log_softmax(log_proba / temperature, axis=1)
            return float(-(weights * scaled[np.arange(len(truth)), truth]).sum() / weights.sum())

        self.temperature_ = float(minimize_scalar(nll, bounds=self.bounds, method="bounded").x)
        self.holdout_cases_ = len(truth)
        # How often the model decides each class for each true class on cases it did not
        # see, and the cases each row was counted on (their noise enters the mix's error).
        decided = log_proba.argmax(axis=1) if decisions is None else decisions
        self.decision_rates_ = decision_rates(truth, decided, n_classes)
        self.holdout_class_cases_ = counts.astype(int)
        if self.balanced or training_mix is None:
            self.reference_mix_ = np.full(n_classes, 1 / n_classes)
        else:
            self.reference_mix_ = np.asarray(training_mix, dtype=float)
        self.holdout_from_ = holdout_from
        return self

    def transform(self, log_proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities."""
        check_is_fitted(self, "temperature_")
        return softmax(log_proba / self.temperature_, axis=1)

    def estimate_class_mix(self, probabilities: np.ndarray) -> ClassMix | None:
        """The class shares among cases from their probabilities (no labels), with each
        share's standard error; None when a class was missing from the hold-out."""
        check_is_fitted(self, "temperature_")
        if self.decision_rates_ is None:
            return None
        decisions = np.asarray(probabilities).argmax(axis=1)
        rates = self.decision_rates_
        return ClassMix(
            estimate_class_mix(rates, decisions),
            class_mix_error(rates, decisions, self.holdout_class_cases_),
        )

    def at_class_mix(
        self, probabilities: np.ndarray, mix: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """``probabilities`` restated for cases whose classes come in shares ``mix``."""
        check_is_fitted(self, "temperature_")
        if len(mix) != len(self.reference_mix_) or min(mix) <= 0:
            raise ValueError(
                f"the class mix needs one positive share per class ({len(self.reference_mix_)})"
            )
        return reweight(np.asarray(probabilities), self.reference_mix_, np.asarray(mix))
