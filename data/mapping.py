"""One row of an export into the canonical record and outcome, by its spec.

``RecordMapper`` is built once per spec (patterns compiled, hooks looked up) and maps a row
in tens of microseconds; a row it cannot use comes back as a ``Rejected`` with the reason,
so that the caller reports it with its file and line instead of dropping it silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from casecast.data.hooks import Hook, get_hook
from casecast.data.schema import CaseOutcome, CaseRecord
from casecast.data.spec import YEAR_FORMAT, SpecFile
from casecast.data.text import split_paragraphs, strip_html

_LEADING_YEAR = re.compile(r"^\s*(\d{3,4})(?:\.0+)?(?:\D|$)")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row left out, and why: ``reason`` is the kind (counted), ``detail`` the specifics."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Dropped:
    """A row the label mapping drops on purpose (``labels: {withdrawn: null}``)."""

    label: str


def leading_year(value: Any) -> int | None:
    """The year a value starts with: 2013, "2013", "2013.0", "1789-1850" -> 1789."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    found = _LEADING_YEAR.match(str(value)) if value is not None else None
    return int(found.group(1)) if found else None


@lru_cache(maxsize=65536)
def _parsed_year(value: str, pattern: str) -> int | None:
    try:
        return datetime.strptime(value.strip(), pattern).year
    except ValueError:
        return None


class RecordMapper:
    """Maps rows of one data set; ``judges``: derive and read the judge's input (opt-in)."""

    def __init__(self, spec: SpecFile, judges: bool = False) -> None:
        self.spec = spec
        self.judges = judges and spec.judge is not None
        self.missing = frozenset(spec.missing)
        self.masks = [re.compile(pattern, re.MULTILINE) for pattern in spec.masks]
        self.hooks: list[tuple[str, Hook]] = [
            (d.column, get_hook(d.hook)) for d in spec.derived if self.judges or not d.judges_only
        ]
        self.inputs = {
            name: rule for name, rule in spec.inputs.items() if self.judges or name != spec.judge
        }
        outcome = spec.outcome
        fold = str.lower if outcome.case_insensitive else (lambda s: s)
        self._fold = fold
        self.labels = {fold(k): v for k, v in outcome.labels.items()}

    def map(
        self, values: dict[str, Any], case_prefix: str = ""
    ) -> tuple[CaseRecord, CaseOutcome] | Rejected | Dropped:
        spec = self.spec
        raw_id = self._value(values, spec.record.id.column)
        if raw_id is None:
            return Rejected("no id", f"{spec.record.id.column} is empty")
        case_id = f"{spec.record.id.prefix}{raw_id}"
        label = self._label(values)
        if isinstance(label, Rejected | Dropped):
            return label
        date_value = self._value(values, spec.record.date.column)
        year = self._year(date_value)
        if year is None and date_value is not None:  # no date is allowed (counted); a bad one not
            rule = spec.record.date
            return Rejected(
                "bad date", f"{rule.column} {date_value!r} does not match {rule.format!r}"
            )
        for column, hook in self.hooks:
            for name, derived in hook.derive(values.get(column)).items():
                values[name] = derived
        paragraphs = self._paragraphs(values)
        if not paragraphs:
            return Rejected("empty text", f"{', '.join(spec.text.columns)} hold no text")
        inputs: dict[str, Any] = {}
        for name, field_rule in self.inputs.items():
            raw = self._value(values, field_rule.column or name)
            if raw is None:
                inputs[name] = field_rule.default
                continue
            if field_rule.type == "category":
                inputs[name] = str(raw).strip()
            elif field_rule.type == "year":
                from_date = (field_rule.column or name) == spec.record.date.column
                parsed = year if from_date else leading_year(raw)
                if parsed is None:
                    return Rejected("bad value", f"{name}: {raw!r} is not a year")
                inputs[name] = parsed
            else:
                try:
                    inputs[name] = float(str(raw).replace(",", ".").replace(" ", ""))
                except ValueError:
                    return Rejected("bad value", f"{name}: {raw!r} is not a number")
        record = CaseRecord(
            case_id=case_id,
            dataset=spec.name,
            jurisdiction=spec.record.jurisdiction or spec.names["en"],
            court=self._court(values),
            decision_year=year,
            parties=self._parties(values),
            title=self._title(values, str(raw_id)),
            paragraphs=paragraphs,
            inputs=inputs,
            metadata={
                name: self._value(values, column) for name, column in spec.record.metadata.items()
            },
        )
        outcome = spec.outcome
        return record, CaseOutcome(
            case_id=case_id,
            label=label,
            violated=_strings(values.get(outcome.violated)) if outcome.violated else (),
            non_violated=_strings(values.get(outcome.not_violated)) if outcome.not_violated else (),
            summary=str(self._value(values, outcome.summary) or "") if outcome.summary else "",
        )

    def _value(self, values: Mapping[str, Any], column: str) -> Any:
        """The column's value, None where absent or written as missing."""
        value = values.get(column)
        if value is None:
            return None
        if isinstance(value, str):
            return None if value.strip() in self.missing else value
        if isinstance(value, float) and value != value:  # NaN from Parquet
            return None
        return value

    def _label(self, values: Mapping[str, Any]) -> str | Rejected | Dropped:
        outcome = self.spec.outcome
        raw = values.get(outcome.column)
        if outcome.rule == "non_empty":
            key = "true" if _strings(raw) else "false"
        else:
            present = self._value(values, outcome.column)
            if present is None:
                return Rejected("no outcome", f"{outcome.column} is empty")
            key = self._fold(str(present).strip())
        if key in self.labels:
            mapped = self.labels[key]
            return Dropped(key) if mapped is None else mapped
        if outcome.otherwise is not None:
            return outcome.otherwise
        return Rejected("unknown label", f"{outcome.column} {key!r} is not in outcome.labels")

    def _year(self, value: Any) -> int | None:
        if value is None:
            return None
        pattern = self.spec.record.date.format
        if pattern == YEAR_FORMAT:
            return leading_year(value)
        return _parsed_year(str(value), pattern)

    def _paragraphs(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        rule = self.spec.text
        found: list[str] = []
        for column in rule.columns:
            value = self._value(values, column)
            for block in value if isinstance(value, list | tuple) else (value,) if value else ():
                if not block:
                    continue
                text = strip_html(str(block)) if "html" in rule.clean else str(block)
                if rule.split == "paragraphs":
                    found.extend(split_paragraphs(text))
                elif rule.split == "lines":
                    found.extend(line.strip() for line in text.split("\n") if line.strip())
                elif text.strip():
                    found.append(text.strip())
        if self.masks:
            found = [p for p in (self._masked(p) for p in found) if p]
        if found and rule.lead:
            found.insert(0, _fill(rule.lead, values, self))
        return tuple(found)

    def _masked(self, paragraph: str) -> str:
        for mask in self.masks:
            paragraph = mask.sub("", paragraph)
        return paragraph.strip()

    def _court(self, values: Mapping[str, Any]) -> str | None:
        court = self.spec.record.court
        if court is None:
            return None
        if self.spec.record.court_constant:
            return court
        value = self._value(values, court)
        return None if value is None else str(value)

    def _parties(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        rule = self.spec.record.parties
        if rule is None:
            return ()
        found: list[str] = []
        for column in rule.columns:
            value = self._value(values, column)
            if value is None:
                continue
            text = str(value)
            found.extend(p for p in (text.split(rule.separator) if rule.separator else [text]) if p)
        return tuple(found)

    def _title(self, values: Mapping[str, Any], raw_id: str) -> str:
        title = self.spec.record.title
        if title is None:
            return raw_id
        if "{" not in title:
            value = self._value(values, title)
            return raw_id if value is None else str(value)
        fields = _TEMPLATE_FIELD.findall(title)
        if any(self._value(values, name) is None for name in fields):
            return raw_id
        return _fill(title, values, self)


def _fill(template: str, values: Mapping[str, Any], mapper: RecordMapper) -> str:
    return _TEMPLATE_FIELD.sub(lambda m: str(mapper._value(values, m.group(1)) or ""), template)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    text = str(value).strip()
    return tuple(part.strip() for part in re.split(r"[;,]", text) if part.strip()) if text else ()
