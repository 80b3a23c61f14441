"""What the model's validation says about an answer, in sentences: the track record of the
model, and its record on the request's own group (the model card's per-group rows)."""

from __future__ import annotations

from typing import Any

import numpy as np


def track_record(card: dict[str, Any] | None, validation_from: str | None) -> dict[str, Any] | None:
    """The validation scores of a model's card beside the majority rule, in plain words.

    None when the run logged no card (a model registered by other means).
    """
    scores = (card or {}).get("scores") or {}
    needed = ("n", "accuracy", "majority_class", "majority_accuracy")
    if any(scores.get(key) is None for key in needed):
        return None
    accuracy, majority = float(scores["accuracy"]), float(scores["majority_accuracy"])
    outcome = str(scores["majority_class"])
    since = _first_year(validation_from)
    n = int(scores["n"])
    tested = f"the {n:,} cases from {since} on" if since else f"{n:,} later cases"
    summary = (
        f"Fitted on earlier cases and tested on {tested}, a model built this way was right "
        f"{accuracy:.1%} of the time; always answering '{outcome.replace('_', ' ')}' was right "
        f"{majority:.1%}."
    )
    beats = accuracy > majority
    if not beats:
        summary += " It does not beat that simple rule: give this estimate little weight."
    return {
        "validated_from": since,
        "cases": n,
        "accuracy": round(accuracy, 4),
        "majority_outcome": outcome,
        "majority_accuracy": round(majority, 4),
        "beats_majority": beats,
        "summary": summary,
    }


def group_record(
    card: dict[str, Any] | None, fields: dict[str, Any], validation_from: str | None
) -> dict[str, Any] | None:
    """How the model scored on the validation cases of the request's own group, in words.

    The group is the one the card forms from a field the request gives (ECHR: the respondent
    state; SCOTUS: the SCDB issue area, by its name). Calibrated overall is not calibrated
    for every group; a mean estimate further from the group's observed rate than two
    standard errors of that rate is called too high or too low. None when the card forms no
    group from the fields given (or there is no card).
    """
    card = card or {}
    for name, grouping in (card.get("group_fields") or {}).items():
        if fields.get(name) in (None, ""):
            continue
        value = str(fields[name]).split(";")[0].strip()
        value = (grouping.get("values") or {}).get(value, value)  # a code's name
        kind = grouping["group"]
        groups = (card.get("groups") or {}).get(kind, [])
        row = next((r for r in groups if str(r.get("group")).upper() == value.upper()), None)
        return _group_record(name, kind, value, row, card, validation_from)
    return None


def _group_record(
    name: str,
    kind: str,
    value: str,
    row: dict[str, Any] | None,
    card: dict[str, Any],
    validation_from: str | None,
) -> dict[str, Any]:
    since = _first_year(validation_from)
    tested = f"the cases tested (from {since} on)" if since else "the later cases tested"
    record: dict[str, Any] = {"field": name, "group": kind, "value": value, "cases": 0}
    record.update(dict.fromkeys(("accuracy", "majority_accuracy", "positive_outcome",
                                 "mean_probability", "observed_rate", "estimates")))  # fmt: skip
    if row is None:
        record["summary"] = (
            f"None of {tested} had {kind} {value}: how it does on such cases is unknown."
        )
        return record
    n = int(row["n"])
    value = record["value"] = str(row["group"])
    record.update(
        cases=n,
        accuracy=row.get("accuracy"),
        majority_accuracy=row.get("majority_accuracy"),
        mean_probability=row.get("mean_probability"),
        observed_rate=row.get("observed_rate"),
        positive_outcome=card.get("positive_class"),
    )
    if row.get("too_few"):
        record["summary"] = (
            f"Only {n} of {tested} had {kind} {value}: too few to tell how it does on such cases."
        )
        return record
    summary = (
        f"On the {n} of {tested} with {kind} {value} it was right {row['accuracy']:.1%} of the "
        f"time; always answering their most frequent outcome was right "
        f"{row['majority_accuracy']:.1%}."
    )
    if row["accuracy"] <= row["majority_accuracy"]:
        summary += " It does not beat that rule for these cases."
    positive, predicted, observed = (
        record["positive_outcome"],
        record["mean_probability"],
        record["observed_rate"],
    )
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
    return record


def _first_year(validation_from: str | None) -> int | None:
    """The validation's first year as its run logged it (a string param), if it is one."""
    return int(validation_from) if validation_from and validation_from.isdigit() else None
