"""The model card as a typed contract: training writes it beside the registered model's run,
serving reads it to say how far to trust an answer (overall and for the request's group)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CardScores(BaseModel):
    """The temporal validation's figures beside always answering the most frequent outcome."""

    model_config = ConfigDict(extra="forbid")

    n: int | None = None
    macro_f1: float | None = None
    accuracy: float | None = None
    roc_auc: float | None = None
    brier: float | None = None
    ece: float | None = None
    ece_if_calibrated: float | None = None  # sampling noise alone, on these cases
    majority_class: str | None = None
    majority_macro_f1: float | None = None
    majority_accuracy: float | None = None
    article_micro_f1: float | None = None
    article_macro_f1: float | None = None
    article_most_frequent_micro_f1: float | None = None


class GroupScores(BaseModel):
    """One group's validation cases: accuracy beside the group's own majority, calibration."""

    model_config = ConfigDict(extra="forbid")

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

    model_config = ConfigDict(extra="forbid")

    group: str
    values: dict[str, str] = Field(default_factory=dict)


class OutcomeModelCard(BaseModel):
    """What a registered outcome model was trained on and how it scored on later cases."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    about: dict[str, Any] = Field(default_factory=dict)
    scores: CardScores = Field(default_factory=CardScores)
    groups: dict[str, list[GroupScores]] = Field(default_factory=dict)
    group_fields: dict[str, CardGroupField] = Field(default_factory=dict)
    positive_class: str | None = None
