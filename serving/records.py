"""What the model's validation says about an answer, in sentences: the track record of the
model, and its record on the request's own group (the model card's per-group rows)."""

from __future__ import annotations

from typing import Any

import numpy as np

from casecast.models.card import GroupScores, OutcomeModelCard
from casecast.serving.schemas import GroupRecord, TrackRecord


def track_record(card: OutcomeModelCard | None, validation_from: str | None) -> TrackRecord | None:
    """The validation scores of a model's card beside the majority rule, in plain words.

    None when the run logged no card (a model registered by other means).
    """
    if card is None:
        return None
    scores = card.scores
    if scores.n is None or scores.accuracy is None or scores.majority_accuracy is None:
        return None
    if scores.majority_class is None:
        return None
    accuracy, majority = scores.accuracy, scores.majority_accuracy
    outcome = scores.majority_class
    since = _first_year(validation_from)
    n = scores.n
    tested = f"the {n:,} cases from {since} on" if since else f"{n:,} later cases"
    summary = (
        f"Fitted on earlier cases and tested on {tested}, a model built this way was right "
        f"{accuracy:.1%} of the time; always answering '{outcome.replace('_', ' ')}' was right "
        f"{majority:.1%}."
    )
    beats = accuracy > majority
    if not beats:
        summary += " It does not beat that simple rule: give this estimate little weight."
    return TrackRecord(
        validated_from=since,
        cases=n,
        accuracy=round(accuracy, 4),
        majority_outcome=outcome,
        majority_accuracy=round(majority, 4),
        beats_majority=beats,
        summary=summary,
    )


def group_record(
    card: OutcomeModelCard | None, fields: dict[str, Any], validation_from: str | None
) -> GroupRecord | None:
    """How the model scored on the validation cases of the request's own group, in words.

    The group is the one the card forms from a field the request gives (ECHR: the respondent
    state; SCOTUS: the SCDB issue area, by its name). Calibrated overall is not calibrated
    for every group; a mean estimate further from the group's observed rate than two
    standard errors of that rate is called too high or too low. None when the card forms no
    group from the fields given (or there is no card).
    """
    if card is None:
        return None
    for name, grouping in card.group_fields.items():
        if fields.get(name) in (None, ""):
            continue
        code = str(fields[name]).split(";")[0].strip()
        value = grouping.values.get(code, code)  # a code's name
        kind = grouping.group
        # A card groups by the value's name (SCOTUS issue areas) or by its code (Russian
        # prior record): either finds the row.
        spellings = {code.upper(), value.upper()}
        row = next((r for r in card.groups.get(kind, []) if r.group.upper() in spellings), None)
        return _group_record(name, kind, value, row, card, validation_from)
    return None


def _group_record(
    name: str,
    kind: str,
    value: str,
    row: GroupScores | None,
    card: OutcomeModelCard,
    validation_from: str | None,
) -> GroupRecord:
    since = _first_year(validation_from)
    tested = f"the cases tested (from {since} on)" if since else "the later cases tested"
    record: dict[str, Any] = {
        "field": name,
        "group": kind,
        "value": value,
        "cases": 0,
        "too_few": True,
    }
    record.update(dict.fromkeys(("accuracy", "majority_accuracy", "positive_outcome",
                                 "mean_probability", "observed_rate", "estimates")))  # fmt: skip
    if row is None or row.accuracy is None or row.majority_accuracy is None:
        record["summary"] = (
            f"None of {tested} had {kind} {value}: how it does on such cases is unknown."
        )
        return GroupRecord(**record)
    # The row's own spelling (AUT for aut), unless the row is the code of a named value.
    n, value = row.n, row.group if row.group.upper() == value.upper() else value
    positive, predicted, observed = card.positive_class, row.mean_probability, row.observed_rate
    record.update(
        value=value,
        cases=n,
        accuracy=row.accuracy,
        majority_accuracy=row.majority_accuracy,
        mean_probability=predicted,
        observed_rate=observed,
        positive_outcome=positive,
        too_few=row.too_few,
    )
    if row.too_few:
        record["summary"] = (
            f"Only {n} of {tested} had {kind} {value}: too few to tell how it does on such cases."
        )
        return GroupRecord(**record)
    summary = (
        f"On the {n} of {tested} with {kind} {value} it was right {row.accuracy:.1%} of the "
        f"time; always answering their most frequent outcome was right "
        f"{row.majority_accuracy:.1%}."
    )
    if row.accuracy <= row.majority_accuracy:
        summary += " It does not beat that rule for these cases."
    if positive and predicted is not None and observed is not None:
        reading = "about right"
        # A rate of 0 or 1 still carries sampling noise: its variance is floored at 1/n.
        if abs(predicted - observed) > 2 * np.sqrt(max(observed * (1 - observed), 1 / n) / n):
            reading = "too high" if predicted > observed else "too low"
        record["estimates"] = reading
        ending = "." if reading == "about right" else f": read its estimate as {reading} here."
        summary += (
            f" It gave '{positive.replace('_', ' ')}' {predicted:.0%} on average where "
            f"{observed:.0%} were found{ending}"
        )
    record["summary"] = summary
    return GroupRecord(**record)


def _first_year(validation_from: str | None) -> int | None:
    """The validation's first year as its run logged it (a string param), if it is one."""
    return int(validation_from) if validation_from and validation_from.isdigit() else None
