"""The paired bootstrap's metrics, computed for all draws at once from case weights, agree
with scikit-learn's and with the training card's on the cases as drawn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from casecast.training.metrics import classification_report
from casecast.training.paired import Difference, compare_cases, draw_weights, metrics
from casecast.training.scored import ScoredCases


def _cases(n: int, classes: tuple[str, ...], seed: int, skill: float = 1.5) -> ScoredCases:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(classes), n)
    logits = rng.normal(size=(n, len(classes)))
    logits[np.arange(n), labels] += skill
    logits = np.round(logits, 1)  # ties in the scores, as real probabilities have
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    groups = {"court": [f"c{i % 3}" for i in range(n)]}
    return ScoredCases("x", classes, classes[-1] if len(classes) == 2 else None,
                       tuple(f"case-{i}" for i in range(n)), labels, probabilities, groups,
                       None, None)  # fmt: skip


@pytest.mark.parametrize("classes", [("lost", "won"), ("a", "b", "c", "d")])
def test_weighted_metrics_equal_scikit_learn_on_the_drawn_cases(classes):
    cases = _cases(300, classes, seed=len(classes))
    weights = draw_weights(len(cases.case_ids), draws=5, seed=3)
    drawn = metrics(cases, weights)
    for row, counts in enumerate(weights.astype(int)):
        picked = np.repeat(np.arange(len(counts)), counts)
        truth = np.asarray(classes)[cases.labels[picked]]
        proba = cases.probabilities[picked]
        predicted = np.asarray(classes)[proba.argmax(axis=1)]
        assert drawn["accuracy"][row] == pytest.approx(accuracy_score(truth, predicted))
        assert drawn["macro_f1"][row] == pytest.approx(f1_score(truth, predicted, average="macro"))
        report = classification_report(truth, proba, list(classes), cases.positive)
        assert drawn["brier"][row] == pytest.approx(report["brier"])
        assert drawn["ece"][row] == pytest.approx(report["ece"])
        if cases.positive is not None:
            expected_auc = roc_auc_score(truth == cases.positive, proba[:, 1])
        else:
            expected_auc = np.mean(
                [roc_auc_score(truth == c, proba[:, i]) for i, c in enumerate(classes)]
            )
        assert drawn["roc_auc"][row] == pytest.approx(expected_auc)


def test_the_interval_is_of_the_paired_difference():
    strong, weak = _cases(400, ("lost", "won"), seed=1, skill=2.5), None
    weak = ScoredCases(
        **{
            **strong.__dict__,
            "probabilities": _cases(400, ("lost", "won"), seed=1, skill=0.3).probabilities,
        }
    )
    weights = draw_weights(400, draws=1000)
    same = {d.metric: d for d in compare_cases(strong, strong, weights)}
    assert all(d.difference == d.low == d.high == 0 for d in same.values())
    worse = {d.metric: d for d in compare_cases(strong, weak, weights)}
    f1 = worse["macro_f1"]
    assert f1.low <= f1.difference <= f1.high < 0 and f1.worse_by_at_least == -f1.high
    assert worse["brier"].worse_by_at_least == worse["brier"].low > 0  # lower is better
    assert Difference("ece", 0.02, 0.03, 0.01, -0.005, 0.02).worse_by_at_least == 0
