from serving.services import track_record


def _card(accuracy: float, majority: float, outcome: str = "petitioner_wins") -> dict:
    return {
        "scores": {
            "n": 499,
            "accuracy": accuracy,
            "majority_class": outcome,
            "majority_accuracy": majority,
        }
    }


def test_a_model_below_the_majority_rule_says_so():
    record = track_record(_card(0.6353, 0.6473), "2010")
    assert record is not None
    assert record["validated_from"] == 2010 and record["cases"] == 499
    assert not record["beats_majority"]
    assert record["summary"] == (
        "Fitted on earlier cases and tested on the 499 cases from 2010 on, a model built this "
        "way was right 63.5% of the time; always answering 'petitioner wins' was right 64.7%. "
        "It does not beat that simple rule: give this estimate little weight."
    )


def test_a_model_above_the_majority_rule_gives_both_figures_only():
    record = track_record(_card(0.8407, 0.5201, "violation"), None)
    assert record is not None and record["beats_majority"] and record["validated_from"] is None
    assert "tested on 499 later cases" in record["summary"]
    assert "84.1%" in record["summary"] and "'violation' was right 52.0%" in record["summary"]
    assert "little weight" not in record["summary"]


def test_no_card_or_an_incomplete_one_gives_no_track_record():
    assert track_record(None, "2011") is None
    assert track_record({"scores": {"n": 10, "accuracy": 0.9}}, "2011") is None
