"""The sentences a person reads about a prediction, built from the model's numbers.

The model returns effects and spans; the words are chosen here, where they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from casecast.models.outcome.explain import Effect, FieldEffect, shorten

SENTENCE_QUOTE_CHARS = 80


def reason_sentence(
    reason: Effect,
    label: str,
    field_labels: Mapping[str, str],
    value_names: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """One reason (a passage, a sentence or a field) in one English sentence; a coded field
    value is named where ``value_names`` names it (SCOTUS issue area 8: Economic Activity)."""
    effect = reason.effect
    points = f"by {abs(effect) * 100:.1f} points"
    shown = f"'{label}'"
    if isinstance(reason, FieldEffect) and reason.field.startswith(RECORD_PREFIXES):
        return (
            f"{record_subject(reason.field, field_labels)} ({reason.value}) {_moves(effect)} "
            f"the estimated probability of {shown} {points}, against the average of past cases."
        )
    if isinstance(reason, FieldEffect):
        field = reason.field
        name = field_labels.get(field, field.replace("_", " ").capitalize())
        value = (value_names or {}).get(field, {}).get(str(reason.value), reason.value)
        return (
            f"{name} {value} {_moves(effect)} the estimated probability of {shown} "
            f"{points}, against the average of past cases."
        )
    first, last = reason.first_paragraph, reason.last_paragraph
    if reason.sentence:
        quote = shorten(reason.excerpt, SENTENCE_QUOTE_CHARS)
        where, plural = f"In paragraph {first}, the sentence “{quote}”", False
    else:
        where = f"Paragraph {first}" if first == last else f"Paragraphs {first}–{last}"
        plural = first != last
    return f"{where} {_moves(effect, plural)} the estimated probability of {shown} {points}."


RECORD_PREFIXES = ("record:", "panel:")


def record_subject(field: str, field_labels: Mapping[str, str]) -> str:
    """Whose earlier decisions a record reason speaks of: ``record:respondent`` is "The
    earlier record of cases with the same respondent state", ``panel:court`` "The sitting
    members' earlier votes"."""
    kind, _, group = field.partition(":")
    labels = [field_labels.get(f, f) for f in group.split("+") if group != "court"]
    # "Respondent state" reads "respondent state" mid-sentence; "SCDB issueArea" stays.
    names = [n[:1].lower() + n[1:] if n[1:2].islower() else n for n in labels]
    same = f" in cases with the same {' and '.join(names)}" if names else ""
    if kind == "panel":
        return f"The sitting members' earlier votes{same}"
    return (
        f"The earlier record of cases with the same {' and '.join(names)}"
        if names
        else ("The court's earlier record")
    )


def _moves(effect: float, plural: bool = False) -> str:
    verb = "raise" if effect >= 0 else "lower"
    return verb if plural else verb + "s"
