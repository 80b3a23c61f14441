"""A version's temporal validation, case by case: what training records of each held-out
case (label, probabilities, groups, articles) and what `compare` reads back to pair two
versions on the same cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from casecast.models.registry import ModelNotAvailableError, run_json
from casecast.models.run_contract import VALIDATION_PREDICTIONS_ARTIFACT

if TYPE_CHECKING:
    from casecast.data.datasets import DatasetSpec
    from casecast.data.schema import Corpus
    from casecast.models.outcome.classifier import CaseOutcomeClassifier, OutcomeDetails

FORMAT = 1


def validation_predictions(
    spec: DatasetSpec,
    held_out: Corpus,
    validator: CaseOutcomeClassifier,
    details: OutcomeDetails,
    articles: list[tuple[str, ...]] | None,
) -> dict[str, Any]:
    """The artifact: one entry per held-out case, in the validator's class order."""
    predicted = (
        [[a.article for a in row if a.predicted] for row in details.articles]
        if details.articles is not None
        else None
    )
    cases = []
    for position, (record, outcome) in enumerate(
        zip(held_out.records, held_out.outcomes, strict=True)
    ):
        case: dict[str, Any] = {
            "case_id": record.case_id,
            "label": outcome.label,
            "p": [round(float(v), 6) for v in details.probabilities[position]],
            "groups": {kind: group_of(record) for kind, group_of in spec.groups.items()},
        }
        if predicted is not None and articles is not None:
            case["articles"] = list(articles[position])
            case["predicted_articles"] = predicted[position]
        cases.append(case)
    return {
        "format": FORMAT,
        "dataset": spec.name,
        "classes": [str(c) for c in validator.classes_],
        "positive": spec.positive_class,
        "cases": cases,
    }


@dataclass(frozen=True)
class ScoredCases:
    """One version's validation predictions, as arrays."""

    dataset: str
    classes: tuple[str, ...]
    positive: str | None
    case_ids: tuple[str, ...]
    labels: np.ndarray  # class index of each case
    probabilities: np.ndarray  # (cases, classes)
    groups: dict[str, list[str | None]]  # kind -> each case's group
    articles: list[set[str]] | None
    predicted_articles: list[set[str]] | None

    def subset(self, positions: np.ndarray) -> ScoredCases:
        pick = list(positions)
        return ScoredCases(
            self.dataset,
            self.classes,
            self.positive,
            tuple(self.case_ids[i] for i in pick),
            self.labels[positions],
            self.probabilities[positions],
            {kind: [values[i] for i in pick] for kind, values in self.groups.items()},
            None if self.articles is None else [self.articles[i] for i in pick],
            None if self.predicted_articles is None else [self.predicted_articles[i] for i in pick],
        )


def scored_cases(run_id: str, what: str) -> ScoredCases:
    """The validation predictions of a training run; ``ModelNotAvailableError`` where the
    run recorded none (trained before casecast recorded them: retrain it)."""
    found = run_json(run_id, VALIDATION_PREDICTIONS_ARTIFACT)
    if found is None:
        raise ModelNotAvailableError(
            f"{what} recorded no case-by-case validation (trained before casecast kept it): "
            "retrain it with `casecast train` to compare it"
        )
    classes = tuple(found["classes"])
    cases = found["cases"]
    index = {label: i for i, label in enumerate(classes)}
    with_articles = bool(cases) and "articles" in cases[0]
    return ScoredCases(
        dataset=found["dataset"],
        classes=classes,
        positive=found.get("positive"),
        case_ids=tuple(c["case_id"] for c in cases),
        labels=np.asarray([index[c["label"]] for c in cases], dtype=int),
        probabilities=np.asarray([c["p"] for c in cases], dtype=float).reshape(-1, len(classes)),
        groups={
            kind: [c["groups"].get(kind) for c in cases]
            for kind in (cases[0]["groups"] if cases else {})
        },
        articles=[set(c["articles"]) for c in cases] if with_articles else None,
        predicted_articles=[set(c["predicted_articles"]) for c in cases] if with_articles else None,
    )
