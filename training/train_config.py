"""A training configuration file: the outcome model's hyperparameters over the spec's own
(`model: params:`), as `casecast tune` writes it and `casecast train --config` reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from casecast.models.outcome import CaseOutcomeClassifier

# Hyperparameters a configuration may not set: the spec's data (fields, language, rules)
# and the settings that decide what is embedded (they change the embedding cache's keys).
NOT_CONFIGURABLE = frozenset(
    {
        "embedder", "categorical", "numeric", "time_column", "language", "stemmer",
        "allowed_outcomes", "chunk_tokens", "chunk_overlap", "max_chunks_per_case", "n_jobs",
    }
)  # fmt: skip


def configurable_params() -> frozenset[str]:
    """The outcome model's hyperparameters that a configuration may set."""
    return frozenset(CaseOutcomeClassifier().get_params(deep=False)) - NOT_CONFIGURABLE


class TrainConfig(BaseModel):
    """What `casecast train --config` reads; ``tuned`` says where the values came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str | None = Field(default=None, description="the data set it was made for")
    model_params: dict[str, Any] = Field(default_factory=dict)
    tuned: dict[str, Any] | None = None

    @field_validator("model_params")
    @classmethod
    def _known(cls, params: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(params) - configurable_params())
        if unknown:
            raise ValueError(
                f"not hyperparameters a configuration can set: {', '.join(unknown)} "
                f"(it can set {', '.join(sorted(configurable_params()))})"
            )
        return params


def read_config(path: Path, dataset: str) -> TrainConfig:
    """The configuration at ``path``; ``ValueError`` naming the file and the problem."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        config = TrainConfig.model_validate(raw)
    except FileNotFoundError:
        raise FileNotFoundError(f"no configuration file {path}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not a training configuration: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the file'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in error.errors()
        )
        raise ValueError(f"{path} is not a training configuration: {problems}") from None
    if config.dataset is not None and config.dataset != dataset:
        raise ValueError(
            f"{path} was made for the data set {config.dataset}, not {dataset}: "
            f"train with --dataset {config.dataset}, or tune {dataset}"
        )
    return config


def write_config(path: Path, config: TrainConfig, comment: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(
        config.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
    )
    path.write_text(f"# {comment}\n{body}", encoding="utf-8")
