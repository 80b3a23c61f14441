"""Probabilities for cases whose class mix differs from the training cases'.

The ECHR train/dev files were balanced by the data set's authors; later judgments are mostly
violations. The stack decides at the balanced threshold, which does not depend on the mix, but
its probabilities answer for the training mix; restated for the mix by Bayes' rule they are
calibrated for it again.

The mix is estimated without labels by black-box shift estimation (Lipton et al., ICML 2018):
the share of each decision among the new cases is the model's rate of that decision for each
true class, measured on its temporal calibration hold-out, weighted by the unknown class
shares. Figures, and the EM alternative that overshot: docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

# A class the estimate puts at zero keeps this share: a zero would forbid it outright.
MIN_SHARE = 1e-3
# Beyond this standard error (about +-0.2 at 95%) an estimated share tells a reader nothing:
# a model whose decisions barely differ by true class (SCOTUS) cannot reveal the mix.
MAX_MIX_ERROR = 0.1


class ClassMix(NamedTuple):
    """Estimated class shares among a batch of cases, and each share's standard error."""

    shares: np.ndarray
    error: np.ndarray


def decision_rates(truth: np.ndarray, decisions: np.ndarray, n_classes: int) -> np.ndarray | None:
    """``rates[i, j]``: the share of class ``i``'s cases decided as ``j``; None if a class is
    missing from ``truth`` (its row, and so the estimate, would be unknown)."""
    counts = np.zeros((n_classes, n_classes))
    np.add.at(counts, (truth, decisions), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    if (totals == 0).any():
        return None
    return counts / totals


def estimate_class_mix(rates: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """The class shares among unlabeled cases from the model's ``decisions`` on them.

    Solves ``rates.T @ mix = decision shares`` by least squares, then keeps the shares
    positive and summing to one (sampling noise can push a rare class below zero).
    """
    shares = _decision_shares(decisions, rates.shape[0])
    mix = np.linalg.lstsq(rates.T, shares, rcond=None)[0]
    mix = np.maximum(mix, MIN_SHARE)
    return mix / mix.sum()


def class_mix_error(
    rates: np.ndarray, decisions: np.ndarray, rate_cases: np.ndarray | None = None
) -> np.ndarray:
    """Standard error of each share ``estimate_class_mix`` gives for these ``decisions``.

    The delta method on the least-squares solve ``rates.T @ mix = shares``: the decision shares
    are multinomial over ``len(decisions)`` cases, and the solve multiplies their noise by the
    inverse of the rates (large when the model decides alike whatever the true class). With
    ``rate_cases``, the hold-out cases of each true class the rates were counted on, the rates'
    own noise enters too (each row multinomial, weighted by its class's estimated share);
    without it the figure is a lower bound.
    """
    shares = _decision_shares(decisions, rates.shape[0])
    covariance = (np.diag(shares) - np.outer(shares, shares)) / len(decisions)
    if rate_cases is not None:
        mix = estimate_class_mix(rates, decisions)
        for row, cases, share in zip(rates, rate_cases, mix, strict=True):
            covariance += share**2 * (np.diag(row) - np.outer(row, row)) / cases
    solve = np.linalg.pinv(rates.T)
    return np.sqrt(np.maximum(np.diag(solve @ covariance @ solve.T), 0.0))


def _decision_shares(decisions: np.ndarray, n_classes: int) -> np.ndarray:
    """The share of the cases decided as each class."""
    if len(decisions) == 0:
        raise ValueError("estimating a class mix needs at least one case")
    return np.bincount(decisions, minlength=n_classes) / len(decisions)


def reweight(probabilities: np.ndarray, reference: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Bayes' rule: probabilities for the ``reference`` class mix, restated for ``mix``."""
    weighted = probabilities * (np.asarray(mix) / np.asarray(reference))
    return weighted / weighted.sum(axis=1, keepdims=True)


def parse_class_mix(text: str, classes: Sequence[str]) -> np.ndarray:
    """Shares written ``violation=0.66`` (or ``a=0.2,b=0.5,...``) in ``classes``' order;
    classes left out share what remains equally. ``ValueError`` saying what is wrong."""
    given: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in classes:
            raise ValueError(f"class mix {text!r}: write class=share with classes {list(classes)}")
        try:
            share = float(value)
        except ValueError:
            raise ValueError(f"class mix {text!r}: {value!r} is not a share") from None
        if not 0 < share < 1:
            raise ValueError(f"class mix {text!r}: each share is between 0 and 1")
        given[name.strip()] = share
    rest = [c for c in classes if c not in given]
    remaining = 1.0 - sum(given.values())
    if (
        not given
        or remaining < -1e-9
        or (rest and remaining <= 0)
        or (not rest and abs(remaining) > 1e-6)
    ):
        raise ValueError(f"class mix {text!r}: the shares of {list(classes)} must sum to 1")
    shares = np.array([given.get(c, remaining / max(len(rest), 1)) for c in classes])
    return shares / shares.sum()
