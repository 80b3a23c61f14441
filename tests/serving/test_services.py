from casecast.models.card import OutcomeModelCard
from casecast.serving.records import group_record, track_record


def _card(accuracy: float, majority: float, outcome: str = "petitioner_wins") -> OutcomeModelCard:
    return OutcomeModelCard.model_validate(
        {
            "scores": {
                "n": 499,
                "accuracy": accuracy,
                "majority_class": outcome,
                "majority_accuracy": majority,
            }
        }
    )


def test_a_model_below_the_majority_rule_says_so():
    record = track_record(_card(0.6353, 0.6473), "2010")
    assert record is not None
    assert record.validated_from == 2010 and record.cases == 499
    assert not record.beats_majority
    assert record.summary == (
        "Fitted on earlier cases and tested on the 499 cases from 2010 on, a model built this "
        "way was right 63.5% of the time; always answering 'petitioner wins' was right 64.7%. "
        "It does not beat that simple rule: give this estimate little weight."
    )


def test_a_model_above_the_majority_rule_gives_both_figures_only():
    record = track_record(_card(0.8407, 0.5201, "violation"), None)
    assert record is not None and record.beats_majority and record.validated_from is None
    assert "tested on 499 later cases" in record.summary
    assert "84.1%" in record.summary and "'violation' was right 52.0%" in record.summary
    assert "little weight" not in record.summary


def test_no_card_or_an_incomplete_one_gives_no_track_record():
    assert track_record(None, "2011") is None
    partial = OutcomeModelCard.model_validate({"scores": {"n": 10, "accuracy": 0.9}})
    assert track_record(partial, "2011") is None


def _group_card(*rows: dict) -> OutcomeModelCard:
    return OutcomeModelCard.model_validate(
        {
            "group_fields": {"respondent": {"group": "respondent state"}},
            "positive_class": "violation",
            "groups": {"respondent state": list(rows)},
        }
    )


# Rows as the ECHR validation card (2011-2013) gives them.
AUSTRIA = {"group": "AUT", "n": 51, "accuracy": 0.627, "majority_accuracy": 0.765,
           "mean_probability": 0.46, "observed_rate": 0.24, "too_few": False}  # fmt: skip
POLAND = {"group": "POL", "n": 109, "accuracy": 0.771, "majority_accuracy": 0.55,
          "mean_probability": 0.54, "observed_rate": 0.45, "too_few": False}  # fmt: skip
MALTA = {"group": "MLT", "n": 17, "accuracy": 0.647, "majority_accuracy": 0.529,
         "mean_probability": 0.47, "observed_rate": 0.53, "too_few": True}  # fmt: skip


def test_a_group_whose_estimates_ran_high_is_told_so():
    # 0.46 against 0.24 of 51 cases: 0.22 apart, beyond two standard errors (0.12).
    record = group_record(_group_card(AUSTRIA, POLAND), {"respondent": "aut;deu"}, "2011")
    assert record is not None
    assert (record.value, record.cases, record.estimates) == ("AUT", 51, "too high")
    assert record.summary == (
        "On the 51 of the cases tested (from 2011 on) with respondent state AUT it was right "
        "62.7% of the time; always answering their most frequent outcome was right 76.5%. It "
        "does not beat that rule for these cases. It gave 'violation' 46% on average where 24% "
        "were found: read its estimate as too high here."
    )


def test_a_gap_within_sampling_noise_is_about_right():
    # 0.54 against 0.45 of 109 cases: 0.09 apart, within two standard errors (0.095).
    record = group_record(_group_card(AUSTRIA, POLAND), {"respondent": "POL"}, "2011")
    assert record is not None and record.estimates == "about right"
    assert record.summary.endswith("where 45% were found.")
    assert "does not beat" not in record.summary  # 77.1% against 55.0%


def test_small_unseen_and_ungrouped_cases():
    card = _group_card(MALTA)
    small = group_record(card, {"respondent": "MLT"}, "2011")
    assert small is not None and small.cases == 17 and small.estimates is None
    assert "too few to tell" in small.summary
    unseen = group_record(card, {"respondent": "ISL"}, None)
    assert unseen is not None and unseen.cases == 0 and unseen.accuracy is None
    assert unseen.summary.startswith("None of the later cases tested had respondent state ISL")
    assert group_record(card, {"year": 2012}, "2011") is None
    assert group_record(None, {"respondent": "AUT"}, "2011") is None
    assert group_record(OutcomeModelCard(groups=card.groups), {"respondent": "AUT"}, "2011") is None


def test_a_coded_field_finds_its_group_by_name():
    """SCOTUS requests give the SCDB issue code; the card groups by the area's name."""
    card = {
        "group_fields": {
            "issueArea": {"group": "issue area", "values": {"1": "Criminal Procedure"}}
        },
        "positive_class": "petitioner_wins",
        "groups": {"issue area": [{"group": "Criminal Procedure", "n": 160, "accuracy": 0.61,
                                   "majority_accuracy": 0.64, "mean_probability": 0.62,
                                   "observed_rate": 0.64, "too_few": False}]},
    }  # fmt: skip
    fields = {"issueArea": "1", "term": 2012}
    record = group_record(OutcomeModelCard.model_validate(card), fields, "2010")
    assert record is not None and record.value == "Criminal Procedure"
    assert record.cases == 160 and record.estimates == "about right"
    assert "with issue area Criminal Procedure" in record.summary
    assert "does not beat that rule" in record.summary
    assert "'petitioner wins' 62% on average" in record.summary


def test_a_multi_class_group_gets_accuracy_only():
    """Russian outcomes have no single class to set an estimate against a rate for."""
    card = {
        "group_fields": {"proceeding": {"group": "proceeding"}},
        "positive_class": None,
        "groups": {"proceeding": [{"group": "criminal", "n": 180, "accuracy": 0.55,
                                   "majority_accuracy": 0.41, "mean_probability": None,
                                   "observed_rate": None, "too_few": False}]},
    }  # fmt: skip
    record = group_record(OutcomeModelCard.model_validate(card), {"proceeding": "Criminal"}, "2015")
    assert record is not None and record.value == "criminal" and record.estimates is None
    assert record.summary == (
        "On the 180 of the cases tested (from 2015 on) with proceeding criminal it was right "
        "55.0% of the time; always answering their most frequent outcome was right 41.0%."
    )


def test_a_card_grouped_by_code_finds_the_group_of_a_named_value():
    """The Russian card groups the prior record by its code; the record names the value."""
    named = {"group": "prior record", "values": {"yes": "convicted or fined before"}}
    card = {
        "group_fields": {"prior_record": named},
        "groups": {"prior record": [{"group": "yes", "n": 58, "accuracy": 0.62,
                                     "majority_accuracy": 0.55, "too_few": False}]},
    }  # fmt: skip
    record = group_record(OutcomeModelCard.model_validate(card), {"prior_record": "yes"}, "2015")
    assert record is not None and (record.cases, record.accuracy) == (58, 0.62)
    assert "with prior record convicted or fined before it was right 62.0%" in record.summary
