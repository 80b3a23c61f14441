import numpy as np
import pytest

from training.metrics import (
    classification_report,
    expected_calibration_error,
    multilabel_report,
)


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


def test_multilabel_report_counts_micro_and_macro_f1():
    truth = [["6"], ["6", "3"], [], ["3"]]
    predicted = [["6"], ["6"], ["3"], ["3"]]
    report = multilabel_report(truth, predicted, ["3", "6"])
    # article 3: tp 1, fp 1, fn 1 -> F1 0.5; article 6: tp 2 -> F1 1.0; micro: tp 3, fp 1, fn 1
    assert report["per_label"] == {"3": {"f1": 0.5, "support": 2}, "6": {"f1": 1.0, "support": 2}}
    assert report["macro_f1"] == 0.75
    assert report["micro_f1"] == 0.75
    assert report["most_frequent_micro_f1"] == 0.5  # always "3": tp 2, fp 2, fn 2


def test_multilabel_report_with_one_label_is_not_read_as_binary_classes():
    report = multilabel_report([["6"], []], [["6"], ["6"]], ["6"])
    assert list(report["per_label"]) == ["6"] and report["per_label"]["6"]["f1"] == 2 / 3
