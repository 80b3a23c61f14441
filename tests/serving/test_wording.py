"""The sentences people read are built from the model's numbers, at the edge."""

from casecast.models.outcome import FieldEffect, PassageEffect
from casecast.serving.wording import reason_sentence

LABELS = {"respondent": "Respondent state"}


def test_a_passage_a_sentence_and_a_field_in_words():
    passage = PassageEffect(2, 4, "...", 0.1234)
    assert reason_sentence(passage, "violation", LABELS) == (
        "Paragraphs 2–4 raise the estimated probability of 'violation' by 12.3 points."
    )
    one = PassageEffect(3, 3, "...", -0.05)
    assert reason_sentence(one, "violation", LABELS).startswith("Paragraph 3 lowers ")
    long_sentence = "The applicant was held in a cell of four square metres " * 3
    sentence = PassageEffect(1, 1, long_sentence, 0.02, sentence=True)
    text = reason_sentence(sentence, "violation", LABELS)
    assert text.startswith("In paragraph 1, the sentence “The applicant was held")
    assert "…” raises the estimated probability of 'violation' by 2.0 points." in text
    field = FieldEffect("respondent", "TUR", 0.031)
    assert reason_sentence(field, "violation", LABELS) == (
        "Respondent state TUR raises the estimated probability of 'violation' by 3.1 points, "
        "against the average of past cases."
    )
    unnamed = FieldEffect("case_type", "civil", -0.01)
    assert reason_sentence(unnamed, "violation", LABELS).startswith("Case type civil lowers")


def test_a_coded_value_is_named_where_the_data_set_names_it():
    from casecast.data.datasets import get_dataset

    spec = get_dataset("ru")
    names = {name: grouping.values for name, grouping in spec.group_fields.items()}
    record = FieldEffect("prior_record", "yes", -0.069)
    assert reason_sentence(record, "suspended_imprisonment", spec.field_labels, names) == (
        "Prior record convicted or fined before lowers the estimated probability of "
        "'suspended_imprisonment' by 6.9 points, against the average of past cases."
    )
    charge = FieldEffect("charge", "УК 228 ч.2", 0.058)
    assert reason_sentence(charge, "imprisonment", spec.field_labels, names).startswith(
        "Charge (code, article, part) УК 228 ч.2 raises"
    )


def test_an_effect_survives_the_pyfunc_answers_record():
    """The pyfunc answers records (its signature's type); the server reads them back into the
    same effects the model made."""
    from casecast.models.outcome import effect_from_record

    effects = [PassageEffect(1, 2, "text", 0.25, sentence=True), FieldEffect("year", "2012", -0.1)]
    for effect in effects:
        record = effect.as_dict()
        assert effect_from_record(record) == effect


def test_a_track_record_is_named_as_earlier_decisions_of_its_group():
    state = FieldEffect("record:respondent", "violation in 84% of 312 earlier decisions", 0.05)
    assert reason_sentence(state, "violation", LABELS) == (
        "The earlier record of cases with the same respondent state (violation in 84% of 312 "
        "earlier decisions) raises the estimated probability of 'violation' by 5.0 points, "
        "against the average of past cases."
    )
    court = FieldEffect("record:court", "violation in 60% of 900 earlier decisions", -0.01)
    assert reason_sentence(court, "violation", LABELS).startswith("The court's earlier record (")
    bench = FieldEffect("panel:issueArea", "earlier votes for petitioner_wins: CThomas 38%", 0.02)
    assert reason_sentence(bench, "petitioner_wins", {"issueArea": "SCDB issueArea"}).startswith(
        "The sitting members' earlier votes in cases with the same SCDB issueArea (earlier votes"
    )
