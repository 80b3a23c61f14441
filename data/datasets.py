"""The data sets casecast knows, by name: how to read a split, where the defaults are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from data import echr
from data.fetch import fetch_echr
from data.schema import Corpus
from data.settings import DataSettings


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: str
    classes: tuple[str, ...]
    positive_class: str
    read_split: Callable[..., Corpus]
    default_splits: Callable[[Path], list[Path]]
    fetch: Callable[[DataSettings], list[Path]]
    description: str


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
    ),
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


def load_default_corpus(
    name: str, settings: DataSettings, limit_per_split: int | None = None
) -> Corpus:
    """The data set's training splits joined into one corpus."""
    spec = get_dataset(name)
    paths = spec.default_splits(settings.resolved_data_dir())
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{spec.name} data not found at {missing[0]}: set CASECAST_DATA_DIR "
            f"or run `casecast data fetch {spec.name}`"
        )
    corpus: Corpus | None = None
    for path in paths:
        part = spec.read_split(path, limit=limit_per_split)
        corpus = part if corpus is None else corpus.concat(part)
    assert corpus is not None
    return corpus
