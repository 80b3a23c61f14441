"""Temperature calibration and the class-mix record, on hand-made hold-out scores."""

import numpy as np
import pandas as pd
import pytest

from casecast.models.outcome.calibration import TemperatureCalibrator, latest_holdout, time_order


def _overconfident(n: int, positives: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities three times too sharp for cases whose true log-odds are known."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(0, 1.5, n)
    truth = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    order = np.argsort(truth)[: int(n * (1 - positives))]
    keep = np.r_[order, np.flatnonzero(truth == 1)[: int(n * positives)]]
    sharp = 3 * logit[keep]
    log_proba = np.column_stack([-np.logaddexp(0, sharp), -np.logaddexp(0, -sharp)])
    return log_proba, truth[keep]


def test_an_overconfident_model_is_softened_by_about_its_excess():
    log_proba, truth = _overconfident(4000, 0.5)
    calibrator = TemperatureCalibrator().fit(log_proba, truth)
    assert calibrator.temperature_ == pytest.approx(3.0, rel=0.15)
    proba = calibrator.transform(log_proba)
    assert np.allclose(proba.sum(axis=1), 1)
    # A temperature never moves the decision.
    np.testing.assert_array_equal(proba.argmax(axis=1), log_proba.argmax(axis=1))


def test_a_balanced_temperature_does_not_depend_on_the_hold_outs_class_mix():
    few, truth_few = _overconfident(4000, 0.2, seed=1)
    many, truth_many = _overconfident(4000, 0.8, seed=1)
    t_few = TemperatureCalibrator().fit(few, truth_few).temperature_
    t_many = TemperatureCalibrator().fit(many, truth_many).temperature_
    assert t_few == pytest.approx(t_many, rel=0.15)


def test_the_record_for_restating_another_class_mix():
    log_proba, truth = _overconfident(2000, 0.5)
    calibrator = TemperatureCalibrator().fit(log_proba, truth, holdout_from=2009)
    assert calibrator.holdout_cases_ == len(truth) and calibrator.holdout_from_ == 2009
    assert list(calibrator.holdout_class_cases_) == list(np.bincount(truth))
    rates = calibrator.decision_rates_
    assert rates.shape == (2, 2) and np.allclose(rates.sum(axis=1), 1)
    assert list(calibrator.reference_mix_) == [0.5, 0.5]
    unbalanced = TemperatureCalibrator(balanced=False).fit(log_proba, truth, np.array([0.3, 0.7]))
    assert list(unbalanced.reference_mix_) == [0.3, 0.7]
    proba = calibrator.transform(log_proba)
    mix = calibrator.estimate_class_mix(proba[truth == 1])
    assert mix is not None and mix.shares[1] > 0.9
    with pytest.raises(ValueError, match="one positive share per class"):
        calibrator.at_class_mix(proba, [1.0, 0.0])


def test_the_hold_out_is_the_latest_cases_and_refused_when_too_small():
    years = pd.DataFrame({"year": [2000 + i % 10 for i in range(200)]})
    order = time_order(years, "year")
    target = np.arange(200) % 2
    split = latest_holdout(target, order, 0.2, 2)
    assert split is not None and len(split.holdout) == 40
    assert years["year"][split.holdout].min() >= years["year"][split.earlier].max()
    assert latest_holdout(target, order, 0.1, 2) is None  # 20 cases: too few to calibrate
    one_class_late = np.where(years["year"] >= 2008, 1, target)
    assert latest_holdout(one_class_late, order, 0.2, 2) is None
    np.testing.assert_array_equal(time_order(years, None), np.arange(200))
