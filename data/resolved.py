"""A spec file resolved into what the pipelines read: the classes and inputs a model learns,
how the model card groups cases and how the search evaluation grades them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casecast.data.fetch import fetch_echr
from casecast.data.schema import CaseOutcome, CaseRecord, DecidedCase, decade
from casecast.data.settings import DataSettings
from casecast.data.sources import source_files
from casecast.data.spec import GroupRule, InputRule, RelevanceRule, SpecFile

GroupOf = Callable[[CaseRecord], str | None]
Relevance = Callable[[DecidedCase, DecidedCase], int]


@dataclass(frozen=True)
class GroupField:
    """An input field a model-card group is formed from, with the names of coded values:
    the server finds the group of a request's own value and reports on it."""

    group: str  # the group kind, a key of ``DatasetSpec.groups``
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    """A spec file resolved for the pipelines (what they read stays one object)."""

    file: SpecFile
    path: Path  # the spec file; relative source paths resolve against its folder
    name: str
    task: str
    classes: tuple[str, ...]
    description: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    validation_from: int
    positive_class: str | None
    field_labels: Mapping[str, str]
    language: str
    stemmer: str | None
    time_field: str
    judge_field: str | None
    per_article: bool
    model_params: Mapping[str, Any]
    groups: Mapping[str, GroupOf]
    group_fields: Mapping[str, GroupField]
    relevance: Relevance | None
    embedding_model: str | None
    written_queries: str | None
    allowed_outcomes: Mapping[str, Mapping[str, tuple[str, ...]]]
    text: str = ""  # the spec as written (what a run records)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def default_splits(self, data_dir: Path) -> list[Path]:
        return source_files(self.file.source, self.folder, data_dir)

    def fetch(self, settings: DataSettings) -> list[Path]:
        data_dir = settings.resolved_data_dir()
        if self.file.source.fetch == "echr":
            return fetch_echr(settings.echr_source_url, data_dir)
        where = self.file.source.where.replace("{data_dir}", str(data_dir))
        raise OSError(f"downloading {self.name} is not automated: put its files in {where}")

    def names_in(self, language: str) -> str:
        return self.file.names.get(language) or self.file.names["en"]


def resolve(file: SpecFile, path: Path, text: str = "") -> DatasetSpec:
    inputs = file.inputs
    judge = file.judge
    model_inputs = {n: r for n, r in inputs.items() if n != judge}
    return DatasetSpec(
        file=file,
        path=path.resolve(),
        name=file.name,
        task=file.model.task,
        classes=tuple(file.outcome.classes),
        description=file.description,
        categorical=tuple(n for n, r in model_inputs.items() if r.type == "category"),
        numeric=tuple(n for n, r in model_inputs.items() if r.type != "category"),
        validation_from=file.validation_from,
        positive_class=file.outcome.positive,
        field_labels={n: english(r.label) or n for n, r in inputs.items()},
        language=file.language,
        stemmer=file.model.stemmer,
        time_field=file.time_field,
        judge_field=judge,
        per_article=file.model.per_article,
        model_params=dict(file.model.params),
        groups={rule.name: group_of(rule, inputs) for rule in file.groups},
        group_fields={
            n: GroupField(r.group, value_names(r)) for n, r in inputs.items() if r.group is not None
        },
        relevance=relevance_of(file.relevance),
        embedding_model=file.model.embedding_model,
        written_queries=file.written_queries,
        allowed_outcomes={
            name: {value: tuple(classes) for value, classes in allowed.items()}
            for name, allowed in file.model.allowed_outcomes.items()
        },
        text=text,
    )


def english(text: str | Mapping[str, str]) -> str:
    return text if isinstance(text, str) else text.get("en", "")


def value_names(rule: InputRule, language: str = "en") -> dict[str, str]:
    return {
        code: name if isinstance(name, str) else name.get(language) or name.get("en", code)
        for code, name in rule.values.items()
    }


def group_of(rule: GroupRule, inputs: Mapping[str, InputRule]) -> GroupOf:
    """The function giving a record's group of this kind (None: not in any)."""
    if rule.by == "court":
        return lambda r: r.court
    if rule.by == "first_party":
        return lambda r: r.parties[0] if r.parties else None
    if rule.by == "decade":
        return decade
    named_by = inputs.get(rule.values_of) if rule.values_of else None
    names = value_names(named_by) if named_by is not None else {}

    def of(record: CaseRecord) -> str | None:
        for column in rule.columns:
            value = (
                record.inputs.get(column)
                if column in record.inputs
                else record.metadata.get(column)
            )
            if value is None or value == "":
                continue
            named = names.get(str(value)) if column == rule.values_of else str(value)
            if named:
                return named
        return None

    return of


def relevance_of(rule: RelevanceRule | None) -> Relevance | None:
    """How relevant a candidate is to a query case, graded in hindsight (0, 1, 2)."""
    if rule is None:
        return None
    if rule.rule == "shared_articles":
        return shared_articles
    name = rule.field or "court"

    def same_field(query: DecidedCase, candidate: DecidedCase) -> int:
        mine = _field(query.record, name)
        if mine is None or mine == "" or mine != _field(candidate.record, name):
            return 0
        return 2 if query.outcome.label == candidate.outcome.label else 1

    return same_field


def _field(record: CaseRecord, name: str) -> Any:
    if name == "court":
        return record.court
    return record.inputs[name] if name in record.inputs else record.metadata.get(name)


def shared_articles(query: DecidedCase, candidate: DecidedCase) -> int:
    """1 if the candidate ruled on an article the query case ruled on; 2 if on a shared
    article both found the same (violation in both, or no violation in both)."""

    def rulings(o: CaseOutcome) -> dict[str, bool]:
        found = {a: False for a in o.non_violated}
        found.update({a: True for a in o.violated})
        return found

    q, c = rulings(query.outcome), rulings(candidate.outcome)
    shared = q.keys() & c.keys()
    if not shared:
        return 0
    return 2 if any(q[a] == c[a] for a in shared) else 1
