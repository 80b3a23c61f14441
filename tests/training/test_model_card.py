from data.schema import CaseRecord
from training.model_card import MIN_GROUP, group_metrics


def _record(state: str, year: int) -> CaseRecord:
    return CaseRecord("x", "echr", "ECtHR", "CHAMBER", year, (state,), "t", ("f",))


def test_groups_are_scored_and_small_ones_marked_not_hidden():
    records = [_record("RUS", 2005)] * MIN_GROUP + [_record("MLT", 1995)] * 3
    truth = ["violation"] * MIN_GROUP + ["no_violation"] * 3
    predicted = ["violation"] * (MIN_GROUP - 5) + ["no_violation"] * 5 + ["violation"] * 3
    groups = group_metrics("echr", records, truth, predicted)
    states = {row["group"]: row for row in groups["respondent state"]}
    assert states["RUS"]["n"] == MIN_GROUP and not states["RUS"]["too_few"]
    assert states["RUS"]["accuracy"] == round((MIN_GROUP - 5) / MIN_GROUP, 4)
    assert states["MLT"] == {
        "group": "MLT",
        "n": 3,
        "accuracy": 0.0,
        "macro_f1": 0.0,
        "too_few": True,
    }
    assert {row["group"] for row in groups["decade"]} == {"2000s", "1990s"}
    assert set(groups) == {"respondent state", "formation", "importance", "decade"}
