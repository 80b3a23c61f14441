"""``casecast data validate``: what a court's export holds before anything trains on it.

One streaming pass over the source: rows read, kept and why not (with file and line),
duplicates (same id, same text), the date range and decisions per year, the label balance
per year, and leakage suspects: an input column, or a word or phrase of the (masked) text,
that predicts the label almost perfectly on its own. Columns are judged on every row (the
majority label of each value, each row left out of its own value's count); phrases on a
uniform sample of texts. Nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from casecast.data.reading import (
    ReadReport,
    check_classes,
    check_usable,
    declared_columns,
    mapped_rows,
    schema_checked,
)
from casecast.data.sources import read_rows, source_files
from casecast.data.spec import SpecFile

SUSPECT_ACCURACY = 0.95  # a column or phrase alone right this often is a leakage suspect
MAX_VALUES = 20_000  # a column with more distinct values is an identifier, not judged
PHRASE_SAMPLE = 4_000  # texts the phrase check reads (uniformly sampled)
PHRASE_MIN_SHARE = 0.02  # a phrase must be in this share of sampled texts to be judged
TOP_SUSPECTS = 10


@dataclass(frozen=True)
class Suspect:
    kind: str  # "input", "column" (read by no model: declare it post_decision) or "phrase"
    name: str
    accuracy: float  # of the rule "this value/phrase -> its majority label", on its own
    coverage: float  # share of cases the rule was judged on
    advice: str
    mask: str | None = None  # for a phrase: a mask that removes it


@dataclass
class ValidationReport:
    dataset: str
    files: list[str]
    rows: ReadReport
    duplicate_ids: int = 0
    duplicate_texts: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    years: dict[int, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    labels_per_year: dict[int, dict[str, int]] = field(default_factory=dict)
    majority_rate: float = 0.0
    suspects: list[Suspect] = field(default_factory=list)
    masks_applied: dict[str, int] = field(default_factory=dict)  # pattern -> texts it changed
    phrase_sample: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "files": self.files,
            "rows": self.rows.as_dict(),
            "duplicates": {
                "same_id": self.duplicate_ids,
                "same_text": self.duplicate_texts,
                "examples": self.duplicate_examples,
            },
            "date_range": [min(self.years), max(self.years)] if self.years else None,
            "decisions_per_year": {str(y): n for y, n in sorted(self.years.items())},
            "labels": self.labels,
            "labels_per_year": {str(y): c for y, c in sorted(self.labels_per_year.items())},
            "majority_rate": round(self.majority_rate, 4),
            "leakage_suspects": [s.__dict__ for s in self.suspects],
            "masks_applied": self.masks_applied,
            "phrase_sample": self.phrase_sample,
        }


class _ColumnVotes:
    """Counts of (value, label) for one column, until it has too many values to judge."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.identifier = False

    def add(self, value: Any, label: str) -> None:
        if self.identifier or value is None or value == "":
            return
        key = str(value)
        if key not in self.counts and len(self.counts) >= MAX_VALUES:
            self.identifier, self.counts = True, defaultdict(Counter)
            return
        self.counts[key][label] += 1

    def accuracy(self) -> tuple[float, float, int]:
        """Leave-one-out accuracy of "the value's majority label", its coverage and n."""
        right = judged = 0
        for labels in self.counts.values():
            if sum(labels.values()) < 2:
                continue
            for label, n in labels.items():
                others = labels.copy()
                others[label] -= 1
                best = max(others.values())
                winners = [k for k, v in others.items() if v == best]
                judged += n
                right += n if winners == [label] else 0
        total = sum(sum(c.values()) for c in self.counts.values())
        return (right / judged if judged else 0.0), (judged / total if total else 0.0), total


def validate(
    spec: SpecFile,
    spec_folder: Path,
    data_dir: Path,
    files: Iterable[Path] | None = None,
    limit: int | None = None,
) -> ValidationReport:
    """Read the whole export once and report on it; ``SpecError`` for what stops training.

    ``limit``: stop after that many kept rows (a first look; the report says how many rows
    it read).
    """
    paths = list(files) if files is not None else source_files(spec.source, spec_folder, data_dir)
    report = ValidationReport(spec.name, [str(p) for p in paths], ReadReport())
    seen_ids: set[str] = set()
    seen_texts: set[bytes] = set()
    years: Counter[int] = Counter()
    labels: Counter[str] = Counter()
    per_year: dict[int, Counter[str]] = defaultdict(Counter)
    inputs = [n for n in spec.inputs if n != spec.judge]
    votes = {name: _ColumnVotes() for name in inputs}
    undeclared: dict[str, _ColumnVotes] = {}
    declared = declared_columns(spec)
    sample: list[tuple[str, str]] = []
    rng = random.Random(0)
    masks = [re.compile(m, re.MULTILINE) for m in spec.masks]
    mask_hits: Counter[str] = Counter()
    rows = schema_checked(spec, read_rows(spec.source, paths, spec_folder, data_dir))
    for kept, mapped in enumerate(islice(mapped_rows(spec, rows, report.rows), limit)):
        record, outcome, values = mapped.record, mapped.outcome, mapped.row.values
        label = outcome.label
        if record.case_id in seen_ids:
            report.duplicate_ids += 1
            _example(report, f"{mapped.row.file}:{mapped.row.line}: id {record.case_id} again")
        seen_ids.add(record.case_id)
        digest = hashlib.blake2b(record.text.encode("utf-8"), digest_size=10).digest()
        if digest in seen_texts:
            report.duplicate_texts += 1
            _example(report, f"{mapped.row.file}:{mapped.row.line}: the text of an earlier row")
        seen_texts.add(digest)
        labels[label] += 1
        if record.decision_year is not None:
            years[record.decision_year] += 1
            per_year[record.decision_year][label] += 1
        for name in inputs:
            votes[name].add(record.inputs.get(name), label)
        for column, value in values.items():
            if column not in declared and not isinstance(value, list | dict):
                undeclared.setdefault(column, _ColumnVotes()).add(value, label)
        for pattern, mask in zip(spec.masks, masks, strict=True):
            if any(mask.search(str(v)) for c in spec.text.columns for v in _texts(values.get(c))):
                mask_hits[pattern] += 1
        # Reservoir sampling: every kept text equally likely to be among those phrases read.
        if len(sample) < PHRASE_SAMPLE:
            sample.append((record.text, label))
        else:
            slot = rng.randint(0, kept)
            if slot < PHRASE_SAMPLE:
                sample[slot] = (record.text, label)
    check_usable(spec, report.rows)
    check_classes(spec, labels, report.rows)
    total = sum(labels.values())
    report.years = dict(sorted(years.items()))
    report.labels = {c: labels.get(c, 0) for c in spec.outcome.classes}
    report.labels_per_year = {y: dict(c) for y, c in sorted(per_year.items())}
    report.majority_rate = max(labels.values()) / total if total else 0.0
    report.masks_applied = {p: mask_hits.get(p, 0) for p in spec.masks}
    report.phrase_sample = len(sample)
    report.suspects = _suspects(votes, undeclared, sample, report.majority_rate)
    return report


def _example(report: ValidationReport, text: str) -> None:
    if len(report.duplicate_examples) < 10:
        report.duplicate_examples.append(text)


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _suspects(
    votes: dict[str, _ColumnVotes],
    undeclared: dict[str, _ColumnVotes],
    sample: list[tuple[str, str]],
    majority: float,
) -> list[Suspect]:
    found: list[Suspect] = []
    for kind, columns in (("input", votes), ("column", undeclared)):
        for name, vote in columns.items():
            if vote.identifier:
                continue
            accuracy, coverage, _ = vote.accuracy()
            if accuracy >= SUSPECT_ACCURACY and coverage >= 0.5 and accuracy > majority + 0.02:
                advice = (
                    "a model reads it: if the decision states it, move it to post_decision"
                    if kind == "input"
                    else "read by no model; if the decision states it, list it in post_decision"
                )
                found.append(Suspect(kind, name, round(accuracy, 4), round(coverage, 4), advice))
    found.extend(_phrase_suspects(sample, majority))
    found.sort(key=lambda s: (-s.accuracy, -s.coverage))
    return found[:TOP_SUSPECTS]


def _phrase_suspects(sample: list[tuple[str, str]], majority: float) -> list[Suspect]:
    """Words and phrases (1-3 words) whose presence alone gives the label: accuracy of the
    stump "present -> the majority label of texts with it, absent -> of those without"."""
    if len(sample) < 20:
        return []
    from sklearn.feature_extraction.text import CountVectorizer

    texts, labels = zip(*sample, strict=True)
    vectorizer = CountVectorizer(
        binary=True, ngram_range=(1, 3), min_df=max(5, int(PHRASE_MIN_SHARE * len(texts))),
        max_df=0.98, token_pattern=r"(?u)\b\w+\b", dtype=np.int32,
    )  # fmt: skip
    try:
        present = vectorizer.fit_transform(texts).tocsc()
    except ValueError:  # no phrase frequent enough
        return []
    classes = sorted(set(labels))
    onehot = np.zeros((len(labels), len(classes)), dtype=np.int64)
    onehot[np.arange(len(labels)), [classes.index(label) for label in labels]] = 1
    with_phrase = np.asarray(present.T @ onehot)  # phrases x classes
    without = onehot.sum(axis=0) - with_phrase
    accuracy = (with_phrase.max(axis=1) + without.max(axis=1)) / len(labels)
    names = vectorizer.get_feature_names_out()
    order = np.argsort(-accuracy)[: TOP_SUSPECTS * 3]
    found = []
    for position in order:
        if accuracy[position] < SUSPECT_ACCURACY or accuracy[position] <= majority + 0.02:
            break
        phrase = str(names[position])
        label = classes[int(with_phrase[position].argmax())]
        share = with_phrase[position].sum() / len(labels)
        words = r"\s+".join(re.escape(word) for word in phrase.split())
        found.append(
            Suspect(
                "phrase", phrase, round(float(accuracy[position]), 4), round(float(share), 4),
                f"in {share:.0%} of texts, mostly {label!r}: mask it if it states the outcome",
                f"(?i)\\b{words}\\b",
            )
        )  # fmt: skip
    return _without_longer_copies(found)


def _without_longer_copies(found: list[Suspect]) -> list[Suspect]:
    """Drop a phrase when a shorter phrase of two words or more inside it covers the same
    texts ("disagreed appeal granted" adds nothing to "appeal granted")."""
    kept = []
    for suspect in found:
        words = f" {suspect.name} "
        if not any(
            other.name != suspect.name
            and " " in other.name
            and f" {other.name} " in words
            and other.coverage == suspect.coverage
            for other in found
        ):
            kept.append(suspect)
    return kept
