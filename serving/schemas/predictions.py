"""Predictions: the request, the estimate with its reasons, and the records that say how
far to trust it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from casecast.serving.schemas.common import (
    DISCLAIMER,
    DatasetName,
    FieldValue,
    Strict,
    not_blank,
)


class PredictRequest(Strict):
    dataset: DatasetName = "echr"
    text: str = Field(
        min_length=1,
        description="The facts of the case, paragraphs separated by blank lines. Longer than "
        "the server's max_text_chars (default 200,000) gets 413.",
        examples=[
            "The applicant was detained on remand for four years.\n\nHis appeals were "
            "dismissed without a hearing."
        ],
    )
    fields: dict[str, FieldValue] = Field(
        default_factory=dict,
        description="Structured inputs known before the decision (ECHR: respondent, year).",
        examples=[{"respondent": "TUR", "year": 2012}],
    )
    explain: bool = Field(default=True, description="include the reasons")

    _text_not_blank = field_validator("text")(not_blank)


class ClassProbability(BaseModel):
    label: str
    probability: float = Field(ge=0, le=1)


class Reason(BaseModel):
    kind: Literal["passage", "feature"]
    explanation: str
    effect: float = Field(
        description="change in the predicted outcome's probability this "
        "passage or field causes (removing it takes the effect away)"
    )
    paragraphs: list[int] | None = Field(
        default=None, description="first and last paragraph of the passage (from 1)"
    )
    excerpt: str | None = None
    sentence: bool | None = Field(
        default=None, description="the passage is one sentence of a one-passage text"
    )
    feature: str | None = None
    value: FieldValue = None


class ArticleProbability(BaseModel):
    article: str = Field(description="ECHR article (P1 = Protocol No. 1)", examples=["6"])
    probability: float = Field(ge=0, le=1, description="estimated probability of a violation")
    predicted: bool = Field(description="above the article's threshold (best F1 out of fold)")


class ModelRef(BaseModel):
    name: str
    version: str
    uri: str


class TrackRecord(BaseModel):
    """How a model built the same way scored on later cases it never saw, beside the simplest
    rule: what a reader needs to weigh the estimate (EU AI Act art. 13: declared accuracy)."""

    validated_from: int | None = Field(description="first year of the cases it was tested on")
    cases: int = Field(description="how many later cases it was tested on")
    accuracy: float = Field(ge=0, le=1)
    majority_outcome: str = Field(description="the most frequent outcome among those cases")
    majority_accuracy: float = Field(
        ge=0, le=1, description="how often always answering the majority outcome was right"
    )
    beats_majority: bool
    summary: str = Field(description="the same in one sentence")


class GroupRecord(BaseModel):
    """How the model scored on the validation cases of the request's own group (ECHR: its
    respondent state): calibrated overall is not calibrated for every group."""

    field: str = Field(description="the request field the group is read from")
    group: str = Field(description="the model card's group kind", examples=["respondent state"])
    value: str = Field(examples=["AUT"])
    cases: int = Field(ge=0, description="validation cases in the group (0: none, untested)")
    too_few: bool = Field(
        default=True, description="too few cases (under 30) to tell how it does on the group"
    )
    accuracy: float | None = Field(default=None, ge=0, le=1)
    majority_accuracy: float | None = Field(
        default=None, ge=0, le=1, description="always answering the group's most frequent outcome"
    )
    positive_outcome: str | None = Field(default=None, description="binary tasks: the outcome")
    mean_probability: float | None = Field(
        default=None, ge=0, le=1, description="the mean estimate of positive_outcome in the group"
    )
    observed_rate: float | None = Field(
        default=None, ge=0, le=1, description="the share of the group's cases with that outcome"
    )
    estimates: Literal["too high", "too low", "about right"] | None = Field(
        default=None,
        description="mean estimate against the observed rate, beyond two standard errors of it",
    )
    summary: str = Field(description="the same in one or two sentences")


class ClassMixAnswered(BaseModel):
    """The class mix the probabilities answer for (later years come in other mixes than
    the training years')."""

    shares: list[ClassProbability] = Field(description="each class's share in that mix")
    source: Literal["trained", "set", "estimated"] = Field(
        description="the model's calibration mix, one a data scientist set, or one estimated "
        "from the service's recent predictions (no labels)"
    )
    cases: int | None = Field(default=None, description="recent predictions it was estimated from")
    error: float | None = Field(default=None, description="the estimate's largest standard error")
    note: str = Field(default="", description="why the trained mix stands where another was asked")


class PredictResponse(BaseModel):
    request_id: str
    record_id: str = Field(
        description="the audit record of this prediction: read it back, or give feedback on it"
    )
    dataset: str
    label: str
    probability: float = Field(ge=0, le=1)
    probabilities: list[ClassProbability]
    reasons: list[Reason]
    fields: dict[str, FieldValue] = Field(
        default_factory=dict,
        description="the structured inputs the model read: the request's, and those a pasted "
        "decision's introduction states where the request leaves them out (Russian: charge, "
        "prior record)",
    )
    articles: list[ArticleProbability] = Field(
        default_factory=list,
        description="per-article violation estimates, for data sets with an article model",
    )
    model: ModelRef
    class_mix: ClassMixAnswered | None = Field(
        default=None,
        description="the class mix the probabilities (and the decision) answer for; null for "
        "a model with no calibration mix",
    )
    track_record: TrackRecord | None = Field(
        default=None, description="the model's temporal validation; null when its run has none"
    )
    group_record: GroupRecord | None = Field(
        default=None,
        description="the temporal validation on cases of the request's own group (ECHR: its "
        "respondent state); null when the request gives no field the model card groups by",
    )
    disclaimer: str = DISCLAIMER
