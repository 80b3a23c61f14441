import numpy as np

from casecast.data.datasets import get_dataset
from casecast.data.schema import CaseRecord
from casecast.training.model_card import MIN_GROUP, group_metrics

CLASSES = ["no_violation", "violation"]


def _record(state: str, year: int) -> CaseRecord:
    return CaseRecord("x", "echr", "ECtHR", "CHAMBER", year, (state,), "t", ("f",))


def _probabilities(p_violation: list[float]) -> np.ndarray:
    p = np.asarray(p_violation)
    return np.column_stack([1 - p, p])


def test_groups_are_scored_beside_their_own_majority_and_small_ones_marked_not_hidden():
    # RUS: 25 violations, 5 not; the model calls all 30 violations but ranks them perfectly.
    # MLT: 3 cases, none a violation; the model calls them all violations.
    records = [_record("RUS", 2005)] * MIN_GROUP + [_record("MLT", 1995)] * 3
    truth = ["violation"] * (MIN_GROUP - 5) + ["no_violation"] * 5 + ["no_violation"] * 3
    p_violation = [0.9] * (MIN_GROUP - 5) + [0.6] * 5 + [0.7] * 3
    groups = group_metrics(
        get_dataset("echr"), records, truth, _probabilities(p_violation), CLASSES, "violation"
    )
    states = {row["group"]: row for row in groups["respondent state"]}
    rus = states["RUS"]
    assert rus["n"] == MIN_GROUP and not rus["too_few"]
    # Always "violation" is the group's majority: the model's accuracy is no better...
    assert rus["accuracy"] == rus["majority_accuracy"] == round((MIN_GROUP - 5) / MIN_GROUP, 4)
    assert rus["roc_auc"] == 1.0  # ...though it ranks the group's cases perfectly
    assert states["MLT"] == {
        "group": "MLT",
        "n": 3,
        "accuracy": 0.0,
        "majority_accuracy": 1.0,
        "macro_f1": 0.0,
        "roc_auc": None,  # one outcome only: nothing to rank
        # Promised a 0.7 chance of a violation where none was found: calibrated it is not.
        "mean_probability": 0.7,
        "observed_rate": 0.0,
        "ece": 0.7,  # every call wrong, at confidence 0.7
        "too_few": True,
    }
    # RUS: predicted 0.9 x 25 + 0.6 x 5 over 30 = 0.85 beside 25 / 30 found.
    assert rus["mean_probability"] == 0.85 and rus["observed_rate"] == round(25 / 30, 4)
    assert {row["group"] for row in groups["decade"]} == {"2000s", "1990s"}
    assert set(groups) == {"respondent state", "formation", "importance", "decade"}


def test_multi_class_groups_get_a_one_vs_rest_roc_auc():
    classes = ["fine", "prison", "suspended"]
    records = [_record("RUS", 2016)] * 6
    truth = ["fine", "prison", "suspended"] * 2
    probabilities = np.tile(np.eye(3) * 0.7 + 0.1, (2, 1))  # each case's true class at 0.8
    (row,) = group_metrics(get_dataset("ru"), records, truth, probabilities, classes, None)[
        "decade"
    ]
    assert row["accuracy"] == 1.0 and row["roc_auc"] == 1.0
    assert row["majority_accuracy"] == round(2 / 6, 4)
    # No single class to compare: only the group's ECE (0.8 confident, always right).
    assert row["mean_probability"] is None and row["observed_rate"] is None
    assert row["ece"] == 0.2


def _scotus(code: str | None, oyez_label: str) -> CaseRecord:
    return CaseRecord("x", "scotus", "US", "SCOTUS", 2012, (), "t", ("f",),
                      inputs={"issueArea": code}, metadata={"issue_area": oyez_label})  # fmt: skip


def test_scotus_issue_areas_are_named_from_the_scdb_code_the_model_reads():
    # The SCDB code wins over Oyez's label; Oyez's label where SCDB has none; else unknown.
    records = [_scotus("8", "Civil Rights"), _scotus(None, "Privacy"), _scotus(None, "")]
    groups = group_metrics(
        get_dataset("scotus"), records, ["petitioner_wins"] * 3,
        _probabilities([0.6, 0.6, 0.6]), ["petitioner_loses", "petitioner_wins"], "petitioner_wins",
    )  # fmt: skip
    assert [row["group"] for row in groups["issue area"]] == [
        "Economic Activity", "Privacy", "unknown"
    ]  # fmt: skip
