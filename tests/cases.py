"""Reading real slices of the shipped data sets through their specs, as the pipelines do."""

from __future__ import annotations

from pathlib import Path

from casecast.data.datasets import get_dataset, read_split
from casecast.data.schema import Corpus
from casecast.data.settings import DataSettings


def read_cases(
    dataset: str, path: Path | str, limit: int | None = None, judges: bool = False
) -> Corpus:
    """The cases of one source file of a shipped data set, at most ``limit``."""
    settings = DataSettings(judge_features=judges)
    return read_split(get_dataset(dataset, settings), Path(path), settings, limit)


def source_file(dataset: str, position: int = 0) -> Path:
    """Where the spec of ``dataset`` reads its source (the file may not exist here)."""
    settings = DataSettings()
    spec = get_dataset(dataset, settings)
    pattern = spec.file.source.files[position]
    return Path(pattern.replace("{data_dir}", str(settings.resolved_data_dir())))


def parse_case(dataset: str, values: dict) -> tuple:
    """One raw row of a shipped data set mapped by its spec: (record, outcome)."""
    from casecast.data.mapping import RecordMapper

    mapped = RecordMapper(get_dataset(dataset).file).map(dict(values))
    assert isinstance(mapped, tuple), mapped
    return mapped
