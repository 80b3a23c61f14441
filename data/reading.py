"""A data set's cases read from its source by its spec, with an account of every row:
how many were read and kept, and why the others were not (with file and line)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from casecast.data.mapping import Dropped, RecordMapper, Rejected
from casecast.data.schema import CaseOutcome, CaseRecord, Corpus
from casecast.data.sections import PRE_DECISION, pre_decision_paragraphs
from casecast.data.sources import Row, read_rows
from casecast.data.spec import SpecError, SpecFile

EXAMPLES_PER_REASON = 5
SCHEMA_ROWS = 1_000  # rows that must show every column the spec reads


class BadRowError(ValueError):
    """A bad row where the spec says to stop (``skip_bad_rows: false``)."""


@dataclass
class ReadReport:
    """What happened to each row read: kept, dropped by the label mapping, or left out."""

    read: int = 0
    kept: int = 0
    dropped_labels: Counter[str] = field(default_factory=Counter)
    left_out: Counter[str] = field(default_factory=Counter)
    kept_without: Counter[str] = field(default_factory=Counter)  # "date": kept, undated
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> "file:line: detail"

    def leave_out(self, row: Row, reason: str, detail: str) -> None:
        self.left_out[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(f"{row.file}:{row.line}: {detail}")

    def summary(self) -> str:
        parts = [f"{self.read} rows read, {self.kept} kept"]
        parts += [
            f"{n} dropped as {label!r} by the label mapping"
            for label, n in self.dropped_labels.items()
        ]
        parts += [f"{n} left out ({reason})" for reason, n in self.left_out.most_common()]
        parts += [f"{n} kept without a {what}" for what, n in self.kept_without.items()]
        return "; ".join(parts)

    @classmethod
    def from_dict(cls, values: dict) -> ReadReport:
        return cls(
            read=values["read"],
            kept=values["kept"],
            dropped_labels=Counter(values["dropped_by_label_mapping"]),
            left_out=Counter(values["left_out"]),
            kept_without=Counter(values.get("kept_without", {})),
            examples=values["examples"],
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "kept": self.kept,
            "dropped_by_label_mapping": dict(self.dropped_labels),
            "left_out": dict(self.left_out),
            "kept_without": dict(self.kept_without),
            "examples": self.examples,
        }


def declared_columns(spec: SpecFile) -> set[str]:
    """Columns the spec says something about (read, shown, or post-decision)."""
    record = spec.record
    named = {record.id.column, record.date.column, spec.outcome.column, *spec.post_decision}
    named.update(spec.text.columns)
    named.update(r.column or n for n, r in spec.inputs.items())
    named.update(record.metadata.values())
    named.update(d.column for d in spec.derived)
    if record.title and "{" not in record.title:
        named.add(record.title)
    if record.court and not record.court_constant:
        named.add(record.court)
    if record.parties:
        named.update(record.parties.columns)
    for extra in (spec.outcome.violated, spec.outcome.not_violated, spec.outcome.summary):
        if extra:
            named.add(extra)
    if spec.source.file_column:
        named.add(spec.source.file_column)
    return named


def schema_checked(spec: SpecFile, rows: Iterable[Row]) -> Iterator[Row]:
    """The rows, after checking on the first ones that every column the spec reads exists."""
    from casecast.data.hooks import hook_outputs
    from casecast.data.sources import FILE_TEXT

    derived = {name for d in spec.derived for name in hook_outputs(d.hook)}
    joined = set(spec.source.join.columns) if spec.source.join else set()
    needed = spec.columns_read(derived) - joined - {FILE_TEXT}
    seen: set[str] = set()
    buffered: list[Row] = []
    iterator = iter(rows)
    for row in iterator:
        seen.update(row.values)
        buffered.append(row)
        if len(buffered) >= SCHEMA_ROWS:
            break
    if buffered:
        for column in sorted(needed - seen):
            key = _key_of(spec, column)
            raise SpecError(
                f"column {column!r} is not in {buffered[0].file} "
                f"(its columns: {', '.join(sorted(seen)[:30])})",
                key=key,
            )
    yield from buffered
    yield from iterator


def _key_of(spec: SpecFile, column: str) -> str:
    if column == spec.record.id.column:
        return "record.id.column"
    if column == spec.record.date.column:
        return "record.date.column"
    if column == spec.outcome.column:
        return "outcome.column"
    if column in spec.text.columns:
        return "text.columns"
    for name, rule in spec.inputs.items():
        if (rule.column or name) == column:
            return f"inputs.{name}"
    return "derived"


def check_usable(spec: SpecFile, rows: ReadReport) -> None:
    """Stop where the spec cannot be what the export means: no row used, or most dates not
    matching the format."""
    if rows.read and not rows.kept:
        reasons = ", ".join(f"{n} {r}" for r, n in rows.left_out.most_common(3))
        bad_dates = rows.left_out.get("bad date", 0)
        key = "record.date.format" if bad_dates and bad_dates == max(rows.left_out.values()) else ""
        first = next(iter(rows.examples.values()), [""])[0]
        raise SpecError(f"no row could be used ({reasons}; e.g. {first})", key=key)
    if rows.read and rows.left_out.get("bad date", 0) > 0.5 * rows.read:
        raise SpecError(
            f"{rows.left_out['bad date']} of {rows.read} dates do not match the format "
            f"{spec.record.date.format!r}, e.g. {rows.examples['bad date'][0]}",
            key="record.date.format",
        )


def check_classes(spec: SpecFile, labels: Counter[str], rows: ReadReport) -> None:
    """Every class of the spec has cases once the labels are mapped."""
    empty = [c for c in spec.outcome.classes if labels.get(c, 0) == 0]
    if empty and rows.kept:
        raise SpecError(
            f"class(es) {', '.join(empty)} have no case once the labels are mapped "
            f"(labels seen: {dict(labels)}); map a label to them or drop them from classes",
            key="outcome.classes",
        )


@dataclass(frozen=True, slots=True)
class MappedRow:
    row: Row
    record: CaseRecord
    outcome: CaseOutcome


def mapped_rows(
    spec: SpecFile,
    rows: Iterable[Row],
    report: ReadReport,
    judges: bool = False,
) -> Iterator[MappedRow]:
    """The rows the spec can use, as records; every other row is counted in ``report``
    (and stops the reading where the spec says bad rows are not to be skipped)."""
    mapper = RecordMapper(spec, judges=judges)
    sections = PRE_DECISION.get(spec.language) if spec.text.sections else None
    for row in rows:
        report.read += 1
        mapped = (
            Rejected("unreadable row", row.problem)
            if row.problem is not None
            else mapper.map(row.values)
        )
        if isinstance(mapped, Dropped):
            report.dropped_labels[mapped.label] += 1
            continue
        if isinstance(mapped, Rejected):
            if not spec.skip_bad_rows and mapped.reason != "empty text":
                raise BadRowError(f"{row.file}:{row.line}: {mapped.reason}: {mapped.detail}")
            report.leave_out(row, mapped.reason, mapped.detail)
            continue
        record, outcome = mapped
        if sections is not None:
            record = dataclasses.replace(
                record, paragraphs=tuple(pre_decision_paragraphs(record.paragraphs, spec.language))
            )
            if not record.paragraphs:
                report.leave_out(row, "empty text", "nothing precedes the decision")
                continue
        report.kept += 1
        if record.decision_year is None:
            report.kept_without["date"] += 1
        yield MappedRow(row, record, outcome)


def read_corpus(
    spec: SpecFile,
    files: Iterable[Path],
    spec_folder: Path,
    data_dir: Path,
    limit: int | None = None,
    judges: bool = False,
) -> tuple[Corpus, ReadReport]:
    """The cases of ``files`` (at most ``limit`` kept), and the account of their rows."""
    files = list(files)
    report = ReadReport()
    records: list[CaseRecord] = []
    outcomes: list[CaseOutcome] = []
    rows = schema_checked(spec, read_rows(spec.source, files, spec_folder, data_dir))
    for mapped in mapped_rows(spec, rows, report, judges=judges):
        records.append(mapped.record)
        outcomes.append(mapped.outcome)
        if limit is not None and len(records) >= limit:
            break
    if limit is None or len(records) < limit:
        check_usable(spec, report)
    sources = [str(f) for f in files]
    if spec.source.join is not None:
        from casecast.data.sources import resolve_path

        joined = resolve_path(spec.source.join.path, spec_folder, data_dir)
        if joined.is_file():
            sources.append(str(joined))
    return Corpus(spec.name, tuple(records), tuple(outcomes), sources=tuple(sources)), report
