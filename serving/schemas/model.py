"""The served model and the service's state: the model card, health, reloads, versions.

The card's schema is the API's own, read from the internal card by field name: the card a
training run writes can change without changing the API (tests pin the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class CardScores(BaseModel):
    """The temporal validation's figures beside always answering the most frequent outcome."""

    n: int | None = None
    macro_f1: float | None = None
    accuracy: float | None = None
    roc_auc: float | None = None
    brier: float | None = None
    ece: float | None = None
    ece_if_calibrated: float | None = Field(
        default=None, description="the ECE sampling noise alone gives on as many cases"
    )
    majority_class: str | None = None
    majority_macro_f1: float | None = None
    majority_accuracy: float | None = None
    article_micro_f1: float | None = None
    article_macro_f1: float | None = None
    article_most_frequent_micro_f1: float | None = None


class GroupScores(BaseModel):
    """One group's validation cases: accuracy beside the group's own majority, calibration."""

    group: str
    n: int
    accuracy: float | None = None
    majority_accuracy: float | None = None
    macro_f1: float | None = None
    roc_auc: float | None = None
    mean_probability: float | None = Field(
        default=None, description="binary tasks: mean estimate of the positive class"
    )
    observed_rate: float | None = Field(
        default=None, description="binary tasks: share of the group's cases with it"
    )
    ece: float | None = None
    too_few: bool = False


class CardGroupField(BaseModel):
    """The input field a group kind is formed from, with the names of coded values."""

    group: str
    values: dict[str, str] = Field(default_factory=dict)


class OutcomeModelCard(BaseModel):
    """What a registered outcome model was trained on and how it scored on later cases."""

    title: str = ""
    about: dict[str, Any] = Field(default_factory=dict)
    scores: CardScores = Field(default_factory=CardScores)
    groups: dict[str, list[GroupScores]] = Field(default_factory=dict)
    group_fields: dict[str, CardGroupField] = Field(default_factory=dict)
    positive_class: str | None = None


class ModelCard(BaseModel):
    dataset: str
    name: str
    version: str
    uri: str
    aliases: list[str]
    inputs: list[str]
    outcomes: list[str] = Field(description="the outcomes it estimates")
    metrics: dict[str, float]
    training_data: dict[str, str]
    params: dict[str, str]
    card: OutcomeModelCard | None = Field(
        default=None,
        description="the model card of the temporal validation: scores beside the majority "
        "class, and per-group scores (groups under 30 cases are marked too_few)",
    )


class ComponentHealth(BaseModel):
    ready: bool
    version: str | None = None
    detail: str | None = None


class PairHealth(BaseModel):
    """Whether the served model and index belong together (same data, same encoder)."""

    matches: bool
    detail: str | None = Field(default=None, description="what differs, and what to do")
    recorded_index_version: str | None = Field(
        default=None, description="the index version `casecast index` recorded for the model"
    )


class IndexBuildHealth(BaseModel):
    """An index build not yet served: running (in the background or another shell), or
    stopped or failed (started again, it resumes from the embedding cache)."""

    version: str
    passages_per_case: int | None = Field(description="null: every passage (the full profile)")
    state: Literal["embedding", "indexing", "done", "failed", "stopped"]
    passages_total: int
    passages_done: int
    share_done: float
    passages_per_second: float | None = Field(
        description="passages this build embedded per second (those found in the cache aside)"
    )
    eta_seconds: float | None
    started_at: str
    updated_at: str
    error: str | None = None


class DatasetHealth(BaseModel):
    model: ComponentHealth
    index: ComponentHealth
    builds: list[IndexBuildHealth] = Field(
        default_factory=list, description="index builds under way or stopped, newest first"
    )
    pair: PairHealth | None = Field(
        default=None, description="null unless both the model and the index are loaded"
    )


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    datasets: dict[str, DatasetHealth]


class ReadyResponse(HealthResponse):
    ready: bool = Field(description="every model and index loaded, and each pair matching")


class ComponentChange(BaseModel):
    dataset: str
    component: Literal["model", "index"]
    old_version: str | None
    new_version: str | None
    error: str | None = None


class ReloadResponse(BaseModel):
    changes: list[ComponentChange] = Field(description="what was swapped (or failed to load)")
    health: HealthResponse


class RegisteredVersion(BaseModel):
    version: str
    registered_at: str | None = Field(default=None, description="ISO 8601, UTC")
    aliases: list[str]
    run_id: str | None
    metrics: dict[str, float]
    index_version: str | None
