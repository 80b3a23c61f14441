"""The sentences people read are built from the model's numbers, at the edge."""

from casecast.serving.wording import reason_sentence

LABELS = {"respondent": "Respondent state"}


def test_a_passage_a_sentence_and_a_field_in_words():
    passage = {"kind": "passage", "paragraphs": [2, 4], "excerpt": "...", "effect": 0.1234}
    assert reason_sentence(passage, "violation", LABELS) == (
        "Paragraphs 2–4 raise the estimated probability of 'violation' by 12.3 points."
    )
    one = {"kind": "passage", "paragraphs": [3, 3], "excerpt": "...", "effect": -0.05}
    assert reason_sentence(one, "violation", LABELS).startswith("Paragraph 3 lowers ")
    long_sentence = "The applicant was held in a cell of four square metres " * 3
    sentence = {"kind": "passage", "paragraphs": [1, 1], "excerpt": long_sentence,
                "sentence": True, "effect": 0.02}  # fmt: skip
    text = reason_sentence(sentence, "violation", LABELS)
    assert text.startswith("In paragraph 1, the sentence “The applicant was held")
    assert "…” raises the estimated probability of 'violation' by 2.0 points." in text
    field = {"kind": "feature", "feature": "respondent", "value": "TUR", "effect": 0.031}
    assert reason_sentence(field, "violation", LABELS) == (
        "Respondent state TUR raises the estimated probability of 'violation' by 3.1 points, "
        "against the average of past cases."
    )
    unnamed = {"kind": "feature", "feature": "case_type", "value": "civil", "effect": -0.01}
    assert reason_sentence(unnamed, "violation", LABELS).startswith("Case type civil lowers")


def test_a_coded_value_is_named_where_the_data_set_names_it():
    from casecast.data.datasets import get_dataset

    spec = get_dataset("ru")
    names = {name: grouping.values for name, grouping in spec.group_fields.items()}
    record = {"kind": "feature", "feature": "prior_record", "value": "yes", "effect": -0.069}
    assert reason_sentence(record, "suspended_imprisonment", spec.field_labels, names) == (
        "Prior record convicted or fined before lowers the estimated probability of "
        "'suspended_imprisonment' by 6.9 points, against the average of past cases."
    )
    charge = {"kind": "feature", "feature": "charge", "value": "УК 228 ч.2", "effect": 0.058}
    assert reason_sentence(charge, "imprisonment", spec.field_labels, names).startswith(
        "Charge (code, article, part) УК 228 ч.2 raises"
    )
