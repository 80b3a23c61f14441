"""Reasons by occlusion: each passage (or sentence) and each field removed in turn, and the
change in the predicted class's probability is its effect. Numbers and spans only: the
sentences a person reads are worded where they are shown, in that person's language.

Removing a passage costs no new embedding: its passage vectors are dropped from the case's.
A text of a single passage (a claimant's short account) is explained sentence by sentence,
since removing its only passage says nothing about which words matter; its passage vector is
kept, so a sentence's effect comes from its words. A field is not removed but set to the
average training case (its one-hot columns to their training frequencies): a case with no
respondent state is one the model never saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from casecast.data.text import split_sentences
from casecast.models.outcome.cases import PreparedCases, join_paragraphs
from casecast.models.outcome.features import CaseFeatures, CaseMatrices

MAX_EXPLAINED_PASSAGES = 200  # occlusion cost grows with the passages of a case
EXCERPT_CHARS = 400


@dataclass(frozen=True)
class PassageEffect:
    """A passage or a sentence of the input and its effect (paragraphs numbered from 1)."""

    first_paragraph: int
    last_paragraph: int
    excerpt: str  # its text, cut at EXCERPT_CHARS
    effect: float  # the predicted class's probability with it minus without it
    sentence: bool = False  # a sentence of a one-passage text, not a whole passage

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "passage",
            "paragraphs": [self.first_paragraph, self.last_paragraph],
            "excerpt": self.excerpt,
            "sentence": self.sentence,
            "effect": round(self.effect, 6),
        }


@dataclass(frozen=True)
class FieldEffect:
    """A structured field's value and its effect against the average training case."""

    field: str
    value: Any
    effect: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "feature",
            "feature": self.field,
            "value": str(self.value),  # one type for every field, as the signature says
            "effect": round(self.effect, 6),
        }


Effect = PassageEffect | FieldEffect


def effect_from_record(record: Mapping[str, Any]) -> Effect:
    """An effect back from the record ``as_dict`` wrote (the pyfunc's answer carries those)."""
    if record["kind"] == "feature":
        return FieldEffect(str(record["feature"]), record["value"], float(record["effect"]))
    first, last = record["paragraphs"]
    return PassageEffect(
        int(first),
        int(last),
        str(record["excerpt"]),
        float(record["effect"]),
        bool(record.get("sentence", False)),
    )


@dataclass(frozen=True)
class _Unit:
    """A piece of an input removed to measure its effect (0-based paragraph numbers)."""

    first: int
    last: int
    text: str
    occluded: list[str]  # the input's paragraphs without it
    kept_vectors: list[int]  # the input's passage vectors that stay
    sentence: bool = False


class OcclusionExplainer:
    """Effects of an input's pieces on a fitted model's predicted class.

    ``features`` turns prepared cases into matrices, ``proba`` matrices into probabilities
    (the fitted model's own steps); ``fields`` are the structured inputs, ``classes`` the
    model's (naming the outcome a record counts).
    """

    def __init__(
        self,
        features: CaseFeatures,
        proba: Callable[[CaseMatrices], np.ndarray],
        fields: Sequence[str],
        classes: Sequence[Any] = (),
    ) -> None:
        self.features = features
        self.proba = proba
        self.fields = tuple(fields)
        self.classes = tuple(classes)

    def explain(self, cases: PreparedCases, i: int, base: np.ndarray, top_k: int) -> list[Effect]:
        """The ``top_k`` strongest passages, then the ``top_k`` strongest fields, of case ``i``
        whose probabilities are ``base``."""
        predicted = int(base.argmax())
        row = cases.inputs.iloc[i]
        units = occlusion_units(cases, i)
        variants = [unit.occluded for unit in units]
        vectors = [cases.vectors[i][unit.kept_vectors] for unit in units]
        rows = [row] * len(units)
        fields = [c for c in self.fields if _present(row[c])]
        for column in fields:
            variants.append(cases.paragraphs[i])
            vectors.append(cases.vectors[i])
            rows.append(row.copy())
            rows[-1][column] = None
        # A record (of earlier decisions) is set to the average training case's, as a field.
        records = self.features.record_groups()
        for _ in records:
            variants.append(cases.paragraphs[i])
            vectors.append(cases.vectors[i])
            rows.append(row)
        if not variants:
            return []
        occluded = PreparedCases(
            paragraphs=variants,
            chunks=[[] for _ in variants],
            embedded=[[] for _ in variants],
            vectors=vectors,
            inputs=pd.DataFrame(rows).reset_index(drop=True),
            dimension=cases.dimension,
        )
        matrices = self.features.transform(occluded)
        reference = self.features.structured_mean_
        for position, column in enumerate(fields, start=len(units)):
            columns = self.features.field_columns(column)
            matrices.structured[position, columns] = reference[columns]
        for position, (_, columns) in enumerate(records, start=len(units) + len(fields)):
            matrices.structured[position, columns] = reference[columns]
        effects = base[predicted] - self.proba(matrices)[:, predicted]
        passages = [
            PassageEffect(
                unit.first + 1,
                unit.last + 1,
                shorten(unit.text, EXCERPT_CHARS),
                float(effect),
                unit.sentence,
            )
            for unit, effect in zip(units, effects[: len(units)], strict=True)
        ]
        # Effects equal to the shown precision keep the text's order.
        passages.sort(key=lambda p: -abs(round(p.effect, 4)))
        field_effects = [
            FieldEffect(column, _plain(row[column]), float(effect))
            for column, effect in zip(
                fields, effects[len(units) : len(units) + len(fields)], strict=True
            )
        ]
        described = self.features.describe_records(row, predicted, self.classes) if records else {}
        field_effects += [
            FieldEffect(name, described.get(name, ""), float(effect))
            for (name, _), effect in zip(records, effects[len(units) + len(fields) :], strict=True)
        ]
        field_effects.sort(key=lambda f: -abs(round(f.effect, 4)))
        return [*passages[:top_k], *field_effects[:top_k]]


def occlusion_units(cases: PreparedCases, i: int) -> list[_Unit]:
    """What is removed in turn: each passage, or each sentence of a one-passage text."""
    paragraphs, chunks, embedded = cases.paragraphs[i], cases.chunks[i], cases.embedded[i]
    spans = list(dict.fromkeys((c.first_paragraph, c.last_paragraph) for c in chunks))
    if len(spans) == 1:
        first, last = spans[0]
        sentences = [(p, s) for p in range(first, last + 1) for s in split_sentences(paragraphs[p])]
        if len(sentences) > 1:
            return [
                _Unit(
                    first=p,
                    last=p,
                    text=sentence,
                    occluded=[
                        *paragraphs[:p],
                        paragraphs[p].replace(sentence, " ", 1).strip(),
                        *paragraphs[p + 1 :],
                    ],
                    kept_vectors=list(range(len(embedded))),
                    sentence=True,
                )
                for p, sentence in sentences[:MAX_EXPLAINED_PASSAGES]
            ]
    return [
        _Unit(
            first=first,
            last=last,
            text=join_paragraphs(paragraphs[first : last + 1]),
            occluded=paragraphs[:first] + paragraphs[last + 1 :],
            kept_vectors=[
                k for k, j in enumerate(embedded) if not first <= chunks[j].first_paragraph <= last
            ],
        )
        for first, last in spans[:MAX_EXPLAINED_PASSAGES]
    ]


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Any) -> Any:
    """A field value as a person reads it: 2014, not 2014.0 or numpy.int64(2014)."""
    shown = value.item() if isinstance(value, np.generic) else value
    if isinstance(shown, float) and shown.is_integer():
        return int(shown)
    return shown


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""
