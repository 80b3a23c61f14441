"""Restating probabilities for another class mix, and estimating that mix without labels."""

import numpy as np
import pytest

from casecast.models.class_mix import (
    MAX_MIX_ERROR,
    MIN_SHARE,
    class_mix_error,
    decision_rates,
    estimate_class_mix,
    reweight,
)

# A model that finds 90% of violations and wrongly flags 20% of the other cases.
RATES = np.array([[0.8, 0.2], [0.1, 0.9]])


def decisions_for(mix: tuple[float, float], n: int = 1000) -> np.ndarray:
    """Exactly the decisions that cases in shares ``mix`` get from a model of ``RATES``."""
    counts = np.zeros(2, dtype=int)
    for true_class, share in enumerate(mix):
        counts += np.round(RATES[true_class] * share * n).astype(int)
    return np.repeat([0, 1], counts)


@pytest.mark.parametrize("mix", [(0.5, 0.5), (0.34, 0.66), (0.2, 0.8), (0.9, 0.1)])
def test_the_mix_is_recovered_from_decisions_alone(mix):
    np.testing.assert_allclose(estimate_class_mix(RATES, decisions_for(mix)), mix, atol=1e-9)


def test_an_impossible_share_is_floored_not_negative():
    """All cases decided 'violation' is more than the rates allow: no class goes below zero."""
    mix = estimate_class_mix(RATES, np.ones(100, dtype=int))
    assert 0 < mix[0] <= MIN_SHARE and mix[1] > 0.99 and mix.sum() == pytest.approx(1)


def test_decision_rates_are_per_true_class_and_need_every_class():
    truth, decided = np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0, 0, 1, 1, 0])
    np.testing.assert_allclose(decision_rates(truth, decided, 2), [[0.75, 0.25], [0.5, 0.5]])
    assert decision_rates(np.array([0, 0]), np.array([0, 1]), 2) is None


def test_reweighting_is_bayes_rule_and_undoes_itself():
    balanced = np.array([[0.5, 0.5], [0.8, 0.2], [0.1, 0.9]])
    uniform, later = np.array([0.5, 0.5]), np.array([1 / 3, 2 / 3])
    restated = reweight(balanced, uniform, later)
    # Even odds under a 50/50 mix become the prior odds, 2:1, under a one-to-two mix.
    np.testing.assert_allclose(restated[0], [1 / 3, 2 / 3])
    assert (restated[:, 1] > balanced[:, 1]).all()
    np.testing.assert_allclose(restated.sum(axis=1), 1)
    np.testing.assert_allclose(reweight(restated, later, uniform), balanced)


def test_the_standard_error_matches_the_spread_of_estimates_over_samples():
    """1,000 draws of 500 cases (two thirds violations) from a model of ``RATES``."""
    rng = np.random.default_rng(0)
    truth_mix, n = np.array([1 / 3, 2 / 3]), 500
    estimates = []
    for _ in range(1000):
        truth = rng.choice(2, size=n, p=truth_mix)
        decisions = (rng.random(n) < RATES[truth, 1]).astype(int)
        estimates.append(estimate_class_mix(RATES, decisions)[1])
    error = class_mix_error(RATES, decisions_for(tuple(truth_mix), n))
    # The solve's error for fixed rates; sampling which class each case is adds no more here.
    assert error[1] == pytest.approx(np.std(estimates), rel=0.1)
    assert error[0] == pytest.approx(error[1])


def test_decisions_that_barely_differ_by_class_cannot_reveal_the_mix():
    """Like the SCOTUS model: 'petitioner wins' for 88% of winners and 84% of losers."""
    alike = np.array([[0.16, 0.84], [0.12, 0.88]])
    decisions = np.repeat([0, 1], [70, 429])  # 499 cases, as its validation
    assert class_mix_error(alike, decisions).max() > 3 * MAX_MIX_ERROR
    assert class_mix_error(RATES, decisions_for((0.34, 0.66), 1594)).max() < MAX_MIX_ERROR / 4


def test_with_the_hold_out_counts_the_error_covers_the_rates_own_noise():
    """Each of 1,000 draws counts the rates on a new hold-out of 150 cases per class, then
    estimates the mix of a new batch of 500 with them."""
    rng = np.random.default_rng(1)
    truth_mix, n, rate_cases = np.array([1 / 3, 2 / 3]), 500, np.array([150, 150])
    estimates = []
    for _ in range(1000):
        flagged = rng.binomial(rate_cases, RATES[:, 1]) / rate_cases
        counted = np.column_stack([1 - flagged, flagged])
        truth = rng.choice(2, size=n, p=truth_mix)
        decisions = (rng.random(n) < RATES[truth, 1]).astype(int)
        estimates.append(estimate_class_mix(counted, decisions)[1])
    decisions = decisions_for(tuple(truth_mix), n)
    error = class_mix_error(RATES, decisions, rate_cases)
    assert error[1] == pytest.approx(np.std(estimates), rel=0.1)
    # The batch's noise alone falls short of that spread.
    assert class_mix_error(RATES, decisions)[1] < 0.9 * np.std(estimates)
