"""Where data and local state live. Read from ``CASECAST_*`` environment variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout this package was imported from; ``../shared/data`` sits beside it in CI.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOME_FOLDER = ".casecast"


def find_home(start: Path | None = None) -> Path:
    """The home when ``CASECAST_HOME`` is not set: ``.casecast`` in the nearest folder, from
    ``start`` (the working directory) upwards, that holds one or is casecast's own project
    root (its ``pyproject.toml``); else the per-user data folder (``$XDG_DATA_HOME`` or
    ``~/.local/share``, then ``casecast``). The same home whichever subfolder a command, the
    server or a notebook starts in."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / HOME_FOLDER).is_dir() or _is_casecast_root(folder):
            return folder / HOME_FOLDER
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "casecast"


def _is_casecast_root(folder: Path) -> bool:
    project = folder / "pyproject.toml"
    if not project.is_file():
        return False
    try:
        return tomllib.loads(project.read_text()).get("project", {}).get("name") == "casecast"
    except (OSError, tomllib.TOMLDecodeError):
        return False


SHARED_DATA_CANDIDATES = (
    PROJECT_ROOT.parent / "shared" / "data",
    Path.cwd().parent / "shared" / "data",
)


class DataSettings(BaseSettings):
    """Data locations. ``home`` holds everything casecast writes (runs, caches, indexes)."""

    model_config = SettingsConfigDict(env_prefix="CASECAST_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default_factory=find_home,
        description="Everything casecast writes; default: found by find_home (the project's "
        ".casecast upwards from the working directory, else the per-user data folder).",
    )
    data_dir: Path | None = Field(
        default=None,
        description="Folder with one sub-folder per data set; defaults to ../shared/data "
        "when present, else <home>/data (where `casecast data fetch` writes).",
    )
    judge_features: bool = Field(
        default=False,
        description="Let outcome models read who the judge is, for data sets that name the "
        "judge before the decision (Russian: the sitting judge). Off by default: profiling "
        "individual judges is unlawful in France (2019 reform, art. 33) and the CEPEJ charter "
        "warns against it. ECHR formations are never read (they give the outcome away).",
    )
    echr_source_url: str = Field(
        default="https://archive.org/download/ECHR-ACL2019/ECHR_Dataset.zip",
        description="Public release of Chalkidis et al. 2019 (`casecast data fetch echr`).",
    )

    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.resolve()
        for candidate in SHARED_DATA_CANDIDATES:
            if candidate.is_dir():
                return candidate.resolve()
        return (self.home / "data").resolve()
