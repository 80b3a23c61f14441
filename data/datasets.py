"""The data sets casecast knows: each one a spec file (``data/specs/*.yaml`` shipped, others
registered with ``casecast data add`` or given by path), resolved into what the pipelines
read: how to load its cases, what a model may read, how the card groups and the search
evaluation grades them."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casecast.data.canonical import MANIFEST, prepared_folder, read_prepared, source_stamp
from casecast.data.reading import ReadReport, check_classes, read_corpus
from casecast.data.resolved import (
    DatasetSpec,
    GroupField,
    english,
    resolve,
    shared_articles,
    value_names,
)
from casecast.data.schema import Corpus
from casecast.data.settings import DataSettings
from casecast.data.sources import resolve_path
from casecast.data.spec import (
    SpecError,
    load_spec,
    parse_spec,
)

__all__ = [  # what the pipelines import from here
    "DATASETS", "DatasetSpec", "GroupField", "english", "get_dataset", "known", "load_corpus",
    "load_corpus_with_report", "model_fields", "read_split", "reads_judges", "register",
    "resolve", "shared_articles", "spec_path", "track_record_params", "use_spec_file",
    "use_spec_text", "value_names", "written_queries",
]  # fmt: skip
SPECS_DIR = Path(__file__).parent / "specs"
REGISTRY_FILE = "datasets.json"  # in the home: name -> spec path (`casecast data add`)


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


# Specs given as text in this process (a rerun's recorded spec), by name.
_RECORDED: dict[str, DatasetSpec] = {}


def forget_given() -> None:
    """Forget the specs given by path or as text (each command starts afresh)."""
    _GIVEN.clear()
    _RECORDED.clear()


def use_spec_text(text: str, path: Path) -> DatasetSpec:
    """Know a spec as written in ``text`` by its name in this process, its relative paths
    resolving against ``path``'s folder (a run's recorded spec, where the file may differ)."""
    spec = resolve(parse_spec(text, path), path, text)
    _RECORDED[spec.name] = spec
    return spec


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
    if name_or_path in _RECORDED:
        return _RECORDED[name_or_path]
    path = spec_path(name_or_path, settings)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise KeyError(f"the spec of {name_or_path!r} at {path} is gone ({error})") from None
    return _load(path, stamp)


@functools.lru_cache(maxsize=64)
def _load(path: Path, stamp: int) -> DatasetSpec:
    del stamp  # part of the cache key: an edited spec is read again
    return resolve(load_spec(path), path, path.read_text(encoding="utf-8"))


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
    if not paths and limit_per_split is None:
        prepared = read_prepared_corpus(spec, settings, files)
        if prepared is not None:
            return prepared
    parts = [read_split_with_report(spec, path, settings, limit_per_split) for path in files]
    corpus = functools.reduce(Corpus.concat, [corpus for corpus, _ in parts])
    reports = [report for _, report in parts]
    if limit_per_split is None:
        total = ReadReport(read=sum(r.read for r in reports), kept=sum(r.kept for r in reports))
        check_classes(spec.file, Counter(corpus.labels()), total)
    return corpus, reports


def read_prepared_corpus(
    spec: DatasetSpec, settings: DataSettings, files: list[Path]
) -> tuple[Corpus, list[ReadReport]] | None:
    """The data set's canonical shards (`casecast data prepare`) if they were made from this
    spec and these very files; None if there are none or anything changed."""
    folder = prepared_folder(settings.home, spec.name)
    stamp = source_stamp(spec.text, files, reads_judges(spec, settings))
    corpus = read_prepared(folder, stamp)
    if corpus is None:
        return None
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return corpus, [ReadReport.from_dict(manifest["rows"])]


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


def track_record_params(spec: DatasetSpec, settings: DataSettings) -> dict[str, Any] | None:
    """The spec's track records as the outcome model's ``track_record`` parameter: the
    groups over the inputs this model reads (a judge's record only with judge features), the
    votes file's path resolved; None when the spec keeps none."""
    rule = spec.file.model.track_record
    if rule is None:
        return None
    categorical, numeric = model_fields(spec, settings)
    readable = set(categorical) | set(numeric)
    keys = [key for key in rule.keys if set(key) <= readable]
    params: dict[str, Any] = {
        "keys": keys,
        "window": rule.window,
        "half_life": rule.half_life,
        "shrinkage": rule.shrinkage,
    }
    panel = rule.panel
    if panel is not None:
        params["panel"] = {
            "reader": panel.reader,
            "path": str(resolve_path(panel.path, spec.folder, settings.resolved_data_dir())),
            "seats": panel.seats,
            "keys": [key for key in panel.keys if set(key) <= readable],
            "label": panel.label,
            "until": panel.until,
        }
    return params if keys or panel is not None else None
