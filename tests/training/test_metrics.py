import numpy as np
import pytest

from casecast.training.metrics import (
    classification_report,
    ece_if_calibrated,
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


def test_ece_if_calibrated_is_what_calibrated_outcomes_score_and_shrinks_with_cases():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.3, 0.9, 256)
    noise, noise_90 = ece_if_calibrated(confidence)
    # Outcomes drawn at the confidences themselves: a perfectly calibrated model's ECE.
    drawn = [
        expected_calibration_error(confidence, rng.random(256) < confidence) for _ in range(300)
    ]
    assert noise == pytest.approx(np.mean(drawn), rel=0.1)
    assert noise < noise_90 < 2 * noise
    assert noise > 0.03  # on 256 cases sampling noise alone is several points of ECE
    many, _ = ece_if_calibrated(np.tile(confidence, 16))
    assert many == pytest.approx(noise / 4, rel=0.35)  # about 1 / sqrt(n)
    assert ece_if_calibrated(np.ones(50)) == (0.0, 0.0)  # certain and right: no noise


def test_report_gives_the_noise_beside_the_ece():
    truth = ["a", "b"] * 100
    proba = np.tile([[0.6, 0.4], [0.3, 0.7]], (100, 1))
    report = classification_report(truth, proba, ["a", "b"], None)
    assert report["ece"] == pytest.approx(0.35)  # right every time at 0.6 and 0.7
    assert 0.0 < report["ece_if_calibrated"] < report["ece_if_calibrated_90"] < 0.1
