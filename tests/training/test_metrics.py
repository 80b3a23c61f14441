import numpy as np
import pytest

from training.metrics import classification_report, expected_calibration_error


def test_ece_is_zero_when_confidence_matches_accuracy():
    confidence = np.array([0.8] * 10)
    correct = np.array([True] * 8 + [False] * 2)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([0.9] * 10), correct) == pytest.approx(0.1)


def test_report_puts_the_majority_baseline_beside_the_model():
    truth = ["violation"] * 6 + ["no_violation"] * 4
    proba = np.array([[0.2, 0.8]] * 6 + [[0.7, 0.3]] * 4)
    report = classification_report(truth, proba, ["no_violation", "violation"], "violation")
    assert report["n"] == 10
    assert report["accuracy"] == report["macro_f1"] == report["roc_auc"] == 1.0
    assert report["majority_class"] == "violation"
    assert report["majority_accuracy"] == pytest.approx(0.6)
    assert report["majority_macro_f1"] == pytest.approx(0.375)
    assert report["brier"] == pytest.approx((6 * 0.2**2 + 4 * 0.3**2) / 10)
