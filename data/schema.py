"""The canonical case schema shared by every jurisdiction.

A decision is split in three on purpose:

- ``CaseRecord`` holds what a claimant knows *before* the decision. Models read only its
  ``paragraphs`` and ``inputs``; everything else on it is for display and retrieval.
- ``CaseOutcome`` holds the labels. It is never passed to a featuriser.
- ``metadata`` on the record holds post-decision or identity fields (formation, importance,
  conclusion text) for grouping and display; ``model_input`` never reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Columns of the model input frame: the only fields an outcome model ever sees.
TEXT_COLUMN = "text"
PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One past decision as the product knows it."""

    case_id: str
    dataset: str
    jurisdiction: str
    court: str | None
    decision_year: int | None
    parties: tuple[str, ...]
    title: str
    paragraphs: tuple[str, ...]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return PARAGRAPH_SEPARATOR.join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """The decision's result: labels only, held apart from the record."""

    case_id: str
    label: str
    violated: tuple[str, ...] = ()
    non_violated: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True, slots=True)
class DecidedCase:
    """A record with its outcome, for what is judged in hindsight (retrieval relevance)."""

    record: CaseRecord
    outcome: CaseOutcome


def decade(record: CaseRecord) -> str | None:
    """The decade of the decision, as a group ("2000s")."""
    return f"{record.decision_year // 10 * 10}s" if record.decision_year else None


@dataclass(frozen=True, slots=True)
class Corpus:
    """Records and their outcomes, aligned by position."""

    dataset: str
    records: tuple[CaseRecord, ...]
    outcomes: tuple[CaseOutcome, ...]
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.records) != len(self.outcomes):
            raise ValueError("records and outcomes must align")
        for record, outcome in zip(self.records, self.outcomes, strict=True):
            if record.case_id != outcome.case_id:
                raise ValueError(f"outcome {outcome.case_id} is not aligned with {record.case_id}")

    def __len__(self) -> int:
        return len(self.records)

    def labels(self) -> list[str]:
        return [outcome.label for outcome in self.outcomes]

    def subset(self, keep: Sequence[bool] | Iterable[int]) -> Corpus:
        """Cases selected by a boolean mask or by positions."""
        keep = list(keep)
        # NumPy masks hold np.bool_, which is not a bool: check the dtype too.
        if keep and (isinstance(keep[0], bool) or str(getattr(keep[0], "dtype", "")) == "bool"):
            if len(keep) != len(self.records):
                raise ValueError(f"mask of {len(keep)} for {len(self.records)} cases")
            positions = [i for i, flag in enumerate(keep) if flag]
        else:
            positions = [int(i) for i in keep]
        return Corpus(
            dataset=self.dataset,
            records=tuple(self.records[i] for i in positions),
            outcomes=tuple(self.outcomes[i] for i in positions),
            sources=self.sources,
        )

    def concat(self, other: Corpus) -> Corpus:
        if other.dataset != self.dataset:
            raise ValueError(f"cannot join {self.dataset} with {other.dataset}")
        return Corpus(
            dataset=self.dataset,
            records=self.records + other.records,
            outcomes=self.outcomes + other.outcomes,
            sources=self.sources + other.sources,
        )

    def fingerprint(self) -> str:
        """A content hash of inputs and labels: same data, same fingerprint, in any order."""
        digests = sorted(
            _sha256(
                json.dumps(
                    [r.case_id, r.paragraphs, dict(r.inputs), o.label],
                    ensure_ascii=False,
                    sort_keys=True,
                    default=str,
                )
            )
            for r, o in zip(self.records, self.outcomes, strict=True)
        )
        return _sha256("".join(digests))[:16]


def model_input(records: Iterable[CaseRecord]) -> list[dict[str, Any]]:
    """The rows an outcome model receives: text plus pre-decision inputs, nothing else."""
    return [{TEXT_COLUMN: record.text, **dict(record.inputs)} for record in records]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
