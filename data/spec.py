"""A data set as a file: the pydantic model of a spec (YAML) that maps a court's export to
the canonical case record, and its loading with errors that name the key and the line.

A spec says where the decisions are and how they are written (``source``), which column is
what (``record``, ``text``, ``inputs``, ``outcome``), what must never be a model input
(``post_decision``, ``masks``), and how the product presents and judges the data set
(``groups``, ``page``, ``relevance``, ``names``). ``docs/datasets.md`` is its reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from casecast.data.thresholds import DriftRule, Gates, Strict
from casecast.data.track_rules import TrackRecordRule

LANGUAGES = ("kk", "ru", "en")
NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"
# What a decision date may be written as: a strftime pattern, or "year" (the leading year
# of the value: "2013", "2013.0", an era "1789-1850" counts from its first year).
YEAR_FORMAT = "year"


class SpecError(ValueError):
    """A spec that cannot be used, with where: the file, the key and its line."""

    def __init__(
        self, message: str, path: Path | None = None, key: str = "", line: int | None = None
    ) -> None:
        self.path, self.key, self.line = path, key, line
        where = ":".join(str(p) for p in (path, line) if p is not None)
        super().__init__(f"{where + ': ' if where else ''}{key + ': ' if key else ''}{message}")


Names = Mapping[str, str]  # language code -> text


class Join(Strict):
    """A second table joined to each row by key columns (SCOTUS: SCDB codes by docket and term)."""

    path: str
    keys: dict[str, str] = Field(description="this table's key column -> the joined table's")
    columns: list[str] = Field(default_factory=list, description="columns taken; all if empty")
    encoding: str = "utf-8"
    separator: str = ","
    year_keys: list[str] = Field(default_factory=list, description="keys compared as years")


class Source(Strict):
    format: Literal["csv", "jsonl", "parquet", "files"]
    files: list[str] = Field(min_length=1, description="paths or globs; {data_dir} expands")
    encoding: str = "utf-8"
    separator: str = Field(default=",", min_length=1, max_length=16)
    quote: str = Field(default='"', min_length=1, max_length=1)
    record_quoted: bool = Field(default=False, description="each whole record wrapped in quotes")
    header: bool = True
    columns: list[str] = Field(default_factory=list, description="names when there is no header")
    member: str | None = Field(default=None, description="the file to read inside a zip archive")
    # format "files": one text/PDF/DOCX file per decision beside a metadata table
    text_folder: str | None = None
    file_column: str | None = Field(default=None, description="metadata column naming the file")
    join: Join | None = None
    fetch: str | None = Field(default=None, description="a named downloader (data/fetch.py)")
    where: str = Field(default="", description="where to put the files, for the error message")

    @field_validator("separator")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("a separator cannot hold a line break")
        return value

    @model_validator(mode="after")
    def _folder_needs_columns(self) -> Source:
        if self.format == "files" and not (self.text_folder and self.file_column):
            raise ValueError("format 'files' needs text_folder and file_column")
        if not self.header and self.format == "csv" and not self.columns:
            raise ValueError("a CSV without a header needs columns")
        return self


class IdRule(Strict):
    column: str
    prefix: str = ""


class DateRule(Strict):
    column: str
    format: str = Field(description="a strftime pattern such as %d.%m.%Y, or 'year'")

    @field_validator("format")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if value != YEAR_FORMAT and "%" not in value:
            raise ValueError(f"{value!r} is neither a strftime pattern (%d.%m.%Y) nor 'year'")
        return value


class Parties(Strict):
    columns: list[str] = Field(min_length=1)
    separator: str | None = None


class Derived(Strict):
    """Columns a named hook (``data/hooks.py``) derives from one column of the row."""

    hook: str
    column: str
    judges_only: bool = Field(default=False, description="run only with judge features on")


class RecordRule(Strict):
    id: IdRule
    date: DateRule
    title: str | None = Field(default=None, description="display column (or a {col} template)")
    court: str | None = Field(default=None, description="display column, or a constant")
    court_constant: bool = False
    parties: Parties | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="display name -> column")
    jurisdiction: str = ""


class TextRule(Strict):
    columns: list[str] = Field(min_length=1, description="text columns (strings or lists)")
    split: Literal["none", "lines", "paragraphs"] = Field(
        default="paragraphs", description="paragraphs: blank lines; lines: every line break"
    )
    clean: list[Literal["html"]] = Field(default_factory=list)
    lead: str | None = Field(default=None, description="a first paragraph, from {column}s")
    sections: bool = Field(default=True, description="the language's section parser applies")


class InputRule(Strict):
    column: str | None = Field(default=None, description="default: the input's own name")
    type: Literal["category", "number", "year"] = "category"
    default: str | None = Field(default=None, description="the value when missing")
    label: str | dict[str, str] = ""
    values: dict[str, str | dict[str, str]] = Field(
        default_factory=dict, description="code -> name"
    )
    group: str | None = Field(default=None, description="the card group this field is named by")
    form: bool = Field(default=True, description="an optional field of the claimant's form")


class OutcomeRule(Strict):
    column: str
    rule: Literal["map", "non_empty"] = "map"
    labels: dict[str, str | None] = Field(description="value -> class; null drops the row")
    otherwise: str | None = Field(
        default=None, description="class of values not in labels; default: the row is bad"
    )
    classes: list[str] = Field(min_length=2, description="the classes, in order")
    positive: str | None = None
    violated: str | None = Field(default=None, description="list column: articles violated")
    not_violated: str | None = None
    summary: str | None = Field(default=None, description="post-decision column shown as result")
    case_insensitive: bool = False
    names: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="class -> its name in kk, ru and en (the page's words)"
    )

    @field_validator("labels", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _classes_known(self) -> OutcomeRule:
        targets = {v for v in self.labels.values() if v is not None}
        if self.otherwise:
            targets.add(self.otherwise)
        unknown = sorted(targets - set(self.classes))
        if unknown:
            raise ValueError(f"labels map to {unknown}, not among classes {self.classes}")
        if self.positive is not None and self.positive not in self.classes:
            raise ValueError(f"positive {self.positive!r} is not among classes {self.classes}")
        if len(self.classes) != len(set(self.classes)):
            raise ValueError("classes repeat")
        return self


class GroupRule(Strict):
    name: str
    by: Literal["court", "first_party", "decade", "input", "metadata"] = "input"
    columns: list[str] = Field(default_factory=list, description="inputs/metadata, first found")
    values_of: str | None = Field(default=None, description="input whose value names apply")


class RelevanceRule(Strict):
    rule: Literal["same_field", "shared_articles"] = "same_field"
    field: str | None = Field(default=None, description="court, or an input or metadata name")


Filter = Literal["respondent", "court", "year", "outcome", "articles"]


def _default_filters() -> list[Filter]:
    return ["year", "outcome"]


class PageRule(Strict):
    filters: list[Filter] = Field(default_factory=_default_filters)


class ModelRule(Strict):
    task: str = "outcome"
    per_article: bool = False
    embedding_model: str | None = None
    stemmer: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    allowed_outcomes: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    track_record: TrackRecordRule | None = None


class SpecFile(Strict):
    """One data set: everything casecast needs to read, mask, train, index and serve it."""

    name: str = Field(pattern=NAME)
    description: str
    names: dict[str, str] = Field(description="the court's name in kk, ru and en")
    language: str = Field(default="en", min_length=2, max_length=8)
    source: Source
    record: RecordRule
    text: TextRule
    missing: list[str] = Field(default_factory=lambda: ["", "-", "None", "NULL"])
    derived: list[Derived] = Field(default_factory=list)
    inputs: dict[str, InputRule] = Field(default_factory=dict)
    judge: str | None = Field(default=None, description="input naming the judge (opt-in)")
    outcome: OutcomeRule
    post_decision: list[str] = Field(default_factory=list)
    masks: list[str] = Field(default_factory=list, description="regexes cut from every text")
    groups: list[GroupRule] = Field(default_factory=list)
    validation_from: int = Field(ge=1000, le=3000)
    time_field: str = "year"
    relevance: RelevanceRule | None = None
    page: PageRule = Field(default_factory=PageRule)
    model: ModelRule = Field(default_factory=ModelRule)
    gates: Gates = Field(default_factory=Gates)
    drift: DriftRule = Field(default_factory=DriftRule)
    written_queries: str | None = None
    skip_bad_rows: bool = Field(default=True, description="skip bad rows (reported) or stop")

    @field_validator("names")
    @classmethod
    def _three_languages(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [code for code in LANGUAGES if not value.get(code)]
        if missing:
            raise ValueError(f"the court's name is missing in {', '.join(missing)}")
        return value

    @field_validator("masks")
    @classmethod
    def _masks_compile(cls, value: list[str]) -> list[str]:
        for position, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"mask {position} ({pattern!r}) does not compile: {error}"
                ) from None
        return value

    @model_validator(mode="after")
    def _inputs_known_before(self) -> SpecFile:
        """No input reads the outcome or a post-decision column: the leakage guard."""
        forbidden = {self.outcome.column, *self.post_decision}
        for extra in (self.outcome.violated, self.outcome.not_violated, self.outcome.summary):
            if extra:
                forbidden.add(extra)
        for name, rule in self.inputs.items():
            column = rule.column or name
            if column in forbidden:
                raise ValueError(f"input {name!r} reads {column!r}, which the decision states")
        for column in self.text.columns:
            if column in forbidden:
                raise ValueError(f"text column {column!r} is the outcome or post-decision")
        if self.judge is not None and self.judge not in self.inputs:
            raise ValueError(f"judge {self.judge!r} is not among the inputs")
        if self.time_field not in self.inputs:
            raise ValueError(f"time_field {self.time_field!r} is not among the inputs")
        record = self.model.track_record
        if record is not None:
            named = [f for key in record.keys for f in key]
            if record.panel is not None:
                named += [record.panel.seats, *(f for key in record.panel.keys for f in key)]
            unknown = sorted(set(named) - set(self.inputs))
            if unknown:
                raise ValueError(f"track_record reads {unknown}, which are not inputs")
        for kind in self.model.allowed_outcomes.values():
            for classes in kind.values():
                unknown_classes = set(classes) - set(self.outcome.classes)
                if unknown_classes:
                    raise ValueError(
                        f"allowed_outcomes names unknown classes {sorted(unknown_classes)}"
                    )
        return self

    def columns_read(self, derived: set[str]) -> set[str]:
        """The source columns the mapping needs (``derived``: those hooks make)."""
        read = {self.record.id.column, self.record.date.column, self.outcome.column}
        read.update(self.text.columns)
        read.update(d.column for d in self.derived)
        read.update(rule.column or name for name, rule in self.inputs.items())
        return read - derived


def load_spec(path: Path | str) -> SpecFile:
    """The spec at ``path``; a ``SpecError`` naming the key and the line when it is invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read the spec ({error})", path) from None
    return parse_spec(text, path)


def parse_spec(text: str, path: Path | None = None) -> SpecFile:
    try:
        raw = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SpecError(
            f"not valid YAML ({getattr(error, 'problem', error)})",
            path,
            line=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(raw, dict):
        raise SpecError("a spec is a mapping of keys (name, source, record, ...)", path, line=1)
    try:
        return SpecFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(str(part) for part in first["loc"])
        key = ".".join(location) or "(top)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown key (known here: {_known_keys(location[:-1])})"
        elif first["type"] == "missing":
            message = "required key is missing"
        line = _nearest_line(lines, location)
        raise SpecError(message, path, key, line) from None


def _key_lines(node: yaml.Node | None, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Each key path of a composed YAML document -> its 1-based line."""
    found: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            found[path] = key.start_mark.line + 1
            found.update(_key_lines(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            path = (*prefix, str(position))
            found[path] = item.start_mark.line + 1
            found.update(_key_lines(item, path))
    return found


def _nearest_line(lines: Mapping[tuple[str, ...], int], location: Sequence[str]) -> int | None:
    for end in range(len(location), 0, -1):
        if tuple(location[:end]) in lines:
            return lines[tuple(location[:end])]
    return 1 if lines else None


def _known_keys(location: Sequence[str]) -> str:
    model: type[BaseModel] | None = SpecFile
    for part in location:
        if model is None:
            break
        field = model.model_fields.get(part)
        if field is not None:  # else a mapping's key or a list's position: same model
            model = _model_in(field.annotation)
    return ", ".join(model.model_fields) if model else "see docs/datasets.md"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
