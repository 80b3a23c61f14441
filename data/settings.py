"""Where data and local state live. Read from ``CASECAST_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout this package was imported from; ``../shared/data`` sits beside it in CI.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA_CANDIDATES = (
    PROJECT_ROOT.parent / "shared" / "data",
    Path.cwd().parent / "shared" / "data",
)


class DataSettings(BaseSettings):
    """Data locations. ``home`` holds everything casecast writes (runs, caches, indexes)."""

    model_config = SettingsConfigDict(env_prefix="CASECAST_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=lambda: Path(".casecast").resolve())
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
