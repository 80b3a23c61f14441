"""The data sets casecast knows: each one a spec file (``data/specs/*.yaml`` shipped, others
registered with ``casecast data add`` or given by path), resolved into what the pipelines
read: how to load its cases, what a model may read, how the card groups and the search
evaluation grades them."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casecast.data.fetch import fetch_echr
from casecast.data.reading import ReadReport, check_classes, read_corpus
from casecast.data.schema import CaseOutcome, CaseRecord, Corpus, DecidedCase, decade
from casecast.data.settings import DataSettings
from casecast.data.sources import resolve_path, source_files
from casecast.data.spec import GroupRule, InputRule, RelevanceRule, SpecError, SpecFile, load_spec

GroupOf = Callable[[CaseRecord], str | None]
Relevance = Callable[[DecidedCase, DecidedCase], int]
SPECS_DIR = Path(__file__).parent / "specs"
REGISTRY_FILE = "datasets.json"  # in the home: name -> spec path (`casecast data add`)


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


def resolve(file: SpecFile, path: Path) -> DatasetSpec:
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
    names = value_names(inputs[rule.values_of]) if rule.values_of in inputs else {}

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


# --- Which spec a name means ----------------------------------------------------------


def shipped() -> dict[str, Path]:
    return {path.stem: path for path in sorted(SPECS_DIR.glob("*.yaml"))}


def registered(settings: DataSettings | None = None) -> dict[str, Path]:
    registry = (settings or DataSettings()).home / REGISTRY_FILE
    if not registry.is_file():
        return {}
    return {name: Path(p) for name, p in json.loads(registry.read_text(encoding="utf-8")).items()}


# Specs given by path in this process (a command's --dataset), known by name until it ends.
_GIVEN: dict[str, Path] = {}


def known(settings: DataSettings | None = None) -> dict[str, Path]:
    """Every data set known by name: the shipped ones, those registered in the home, and
    those given by path in this process."""
    return {**shipped(), **registered(settings), **_GIVEN}


def forget_given() -> None:
    """Forget the specs given by path (each command starts afresh)."""
    _GIVEN.clear()


def use_spec_file(path: Path) -> DatasetSpec:
    """Know the spec at ``path`` by its name in this process (nothing is written)."""
    spec = resolve(load_spec(path), path)
    _check_name(spec, path)
    _GIVEN[spec.name] = spec.path
    return spec


def _check_name(spec: DatasetSpec, path: Path) -> None:
    ours = shipped().get(spec.name)
    if ours is not None and ours.resolve() != spec.path:
        raise SpecError(f"{spec.name!r} is a shipped data set's name; choose another", path, "name")


def spec_path(name_or_path: str, settings: DataSettings | None = None) -> Path:
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_file():
            raise KeyError(f"no spec file at {candidate}")
        return candidate.resolve()
    found = known(settings)
    if name_or_path not in found:
        raise KeyError(
            f"unknown data set {name_or_path!r}; known: {', '.join(found)} "
            "(or give a spec file's path; `casecast data add <spec>` registers one)"
        )
    return found[name_or_path]


def get_dataset(name_or_path: str, settings: DataSettings | None = None) -> DatasetSpec:
    """The data set of a name (shipped or registered) or of a spec file's path."""
    path = spec_path(name_or_path, settings)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise KeyError(f"the spec of {name_or_path!r} at {path} is gone ({error})") from None
    return _load(path, stamp)


@functools.lru_cache(maxsize=64)
def _load(path: Path, stamp: int) -> DatasetSpec:
    del stamp  # part of the cache key: an edited spec is read again
    return resolve(load_spec(path), path)


def register(path: Path, settings: DataSettings) -> DatasetSpec:
    """Know the spec at ``path`` by its name from now on (validated first)."""
    spec = resolve(load_spec(path), path)
    _check_name(spec, path)
    settings.home.mkdir(parents=True, exist_ok=True)
    entries = {name: str(p) for name, p in registered(settings).items()}
    entries[spec.name] = str(spec.path)
    target = settings.home / REGISTRY_FILE
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(entries, indent=2, ensure_ascii=False), encoding="utf-8")
    partial.replace(target)
    return spec


# Every data set that ships with casecast, by name (for help texts and tests).
DATASETS: tuple[str, ...] = tuple(shipped())


# --- Reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenQuery:
    """One situation described by hand in several languages, and the decisions it is about."""

    query_id: str
    relevant: tuple[str, ...]  # case ids
    texts: Mapping[str, str]  # language code -> query text


QUERIES_DIR = Path(__file__).parent / "queries"


def written_queries(spec: DatasetSpec) -> list[WrittenQuery]:
    """The data set's hand-written evaluation queries (none when it has no such file)."""
    if spec.written_queries is None:
        return []
    path = resolve_path(spec.written_queries, spec.folder, QUERIES_DIR)
    if not path.is_file():
        path = QUERIES_DIR / spec.written_queries
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        WrittenQuery(
            query_id=row["id"],
            relevant=tuple(row["relevant"]),
            texts={k: v for k, v in row.items() if k not in ("id", "relevant")},
        )
        for row in rows
    ]


def load_corpus(
    name: str,
    settings: DataSettings,
    limit_per_split: int | None = None,
    paths: Sequence[Path] = (),
) -> Corpus:
    """The data set's source files (or the files given) read into one corpus."""
    return load_corpus_with_report(name, settings, limit_per_split, paths)[0]


def load_corpus_with_report(
    name: str,
    settings: DataSettings,
    limit_per_split: int | None = None,
    paths: Sequence[Path] = (),
) -> tuple[Corpus, list[ReadReport]]:
    spec = get_dataset(name, settings)
    data_dir = settings.resolved_data_dir()
    if paths:
        missing = [p for p in paths if not Path(p).is_file()]
        if missing:
            raise FileNotFoundError(f"{spec.name} data not found at {missing[0]}")
        files = [Path(p) for p in paths]
    else:
        try:
            files = spec.default_splits(data_dir)
        except ValueError as error:
            raise FileNotFoundError(
                f"{spec.name} data not found ({error}): set CASECAST_DATA_DIR "
                f"or run `casecast data fetch {spec.name}`"
            ) from None
    parts = [read_split_with_report(spec, path, settings, limit_per_split) for path in files]
    corpus = functools.reduce(Corpus.concat, [corpus for corpus, _ in parts])
    reports = [report for _, report in parts]
    if limit_per_split is None:
        total = ReadReport(read=sum(r.read for r in reports), kept=sum(r.kept for r in reports))
        check_classes(spec.file, Counter(corpus.labels()), total)
    return corpus, reports


def reads_judges(spec: DatasetSpec, settings: DataSettings) -> bool:
    """Judge identity is an input only when opted in and the data set names judges."""
    return bool(spec.judge_field and settings.judge_features)


def read_split(
    spec: DatasetSpec, path: Path, settings: DataSettings | None = None, limit: int | None = None
) -> Corpus:
    """One source file of the data set: judge names read only where the setting allows and
    the data names them; texts keep only what the language's section parser says precedes
    the decision."""
    return read_split_with_report(spec, path, settings, limit)[0]


def read_split_with_report(
    spec: DatasetSpec, path: Path, settings: DataSettings | None = None, limit: int | None = None
) -> tuple[Corpus, ReadReport]:
    """``read_split`` and the account of the file's rows."""
    settings = settings or DataSettings()
    return read_corpus(
        spec.file,
        [Path(path)],
        spec.folder,
        settings.resolved_data_dir(),
        limit=limit,
        judges=reads_judges(spec, settings),
    )


def model_fields(
    spec: DatasetSpec, settings: DataSettings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The categorical and numeric inputs a model of this data set reads under these settings."""
    categorical = spec.categorical
    if reads_judges(spec, settings) and spec.judge_field is not None:
        categorical = (*categorical, spec.judge_field)
    return categorical, spec.numeric
