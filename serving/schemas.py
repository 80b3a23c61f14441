"""Request and response schemas, one family per resource."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from casecast.models.card import OutcomeModelCard

DatasetName = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$", examples=["echr"])
]
FieldValue = str | int | float | None
DISCLAIMER = (
    "An estimate from past published decisions, for information only: it is not legal advice "
    "and does not bind any court. A person must review it."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _not_blank(text: str | None) -> str | None:
    if text is not None and not text.strip():
        raise ValueError("must contain some text, not only white space")
    return text


class PredictRequest(_Strict):
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

    _text_not_blank = field_validator("text")(_not_blank)


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
    track_record: TrackRecord | None = Field(
        default=None, description="the model's temporal validation; null when its run has none"
    )
    group_record: GroupRecord | None = Field(
        default=None,
        description="the temporal validation on cases of the request's own group (ECHR: its "
        "respondent state); null when the request gives no field the model card groups by",
    )
    disclaimer: str = DISCLAIMER


class PrecedentFilters(_Strict):
    respondent: str | None = Field(default=None, max_length=64, examples=["TUR"])
    year_min: int | None = Field(default=None, ge=1900, le=2100)
    year_max: int | None = Field(default=None, ge=1900, le=2100)
    outcome: str | None = Field(default=None, max_length=64, examples=["violation"])
    court: str | None = Field(default=None, max_length=64, examples=["CHAMBER"])
    articles: list[Annotated[str, Field(max_length=16)]] = Field(
        default_factory=list,
        max_length=20,
        description="cases that ruled on any of these",
        examples=[["6", "P1"]],
    )


class PrecedentSearchRequest(_Strict):
    dataset: DatasetName = "echr"
    text: str | None = Field(default=None, min_length=1, description="facts to match; or case_id")
    case_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="find cases like this indexed case instead of a text",
    )
    k: int = Field(default=10, ge=1, le=50)
    mode: Literal["semantic", "keyword", "hybrid"] = Field(
        default="hybrid", description="by meaning, by words (BM25), or both fused"
    )
    filters: PrecedentFilters = Field(default_factory=PrecedentFilters)

    _text_not_blank = field_validator("text")(_not_blank)


class QueryPassage(BaseModel):
    paragraphs: list[int] = Field(description="first and last paragraph of the query (1-based)")
    text: str


class PassageOut(BaseModel):
    paragraphs: list[int] = Field(description="first and last paragraph number (1-based)")
    text: str
    score: float
    keyword_hits: list[str] = Field(
        default_factory=list,
        description="the passage's words that match the query's keywords (stop words dropped, "
        "the same stems as the keyword search); empty for semantic search",
    )
    query_passage: QueryPassage | None = Field(
        default=None,
        description="the query's passage closest to this one in meaning (text queries "
        "searched by meaning or both)",
    )


class CaseFields(BaseModel):
    """What every answer shows of a past case."""

    case_id: str
    title: str
    year: int | None
    court: str | None
    parties: list[str]
    outcome: str
    violated_articles: list[str]
    examined_articles: list[str] = Field(description="articles ruled on, violated or not")


class PrecedentOut(CaseFields):
    score: float
    passages: list[PassageOut]


class IndexRef(BaseModel):
    version: str
    embedding_model: str
    n_cases: int
    mode: str
    fusion: str | None = Field(
        default=None,
        description="hybrid only: lambdarank (a ranker fitted on earlier years' queries "
        "orders the best candidates) or rrf (reciprocal rank fusion)",
    )


class PrecedentSearchResponse(BaseModel):
    record_id: str = Field(description="the audit record of this search")
    dataset: str
    results: list[PrecedentOut]
    index: IndexRef


class CaseResponse(CaseFields):
    dataset: str
    paragraphs: list[str]


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


class FeedbackRequest(_Strict):
    verdict: Literal["agree", "disagree"]
    comment: str = Field(default="", max_length=2000)


class FeedbackOut(BaseModel):
    record_id: str
    ts: str
    key_id: str | None
    role: str | None
    verdict: str
    comment: str


class AuditRecordOut(BaseModel):
    """A prediction as the audit log holds it: never the case text, only its hash."""

    record_id: str
    seq: int = Field(description="position in the hash chain")
    ts: str
    kind: str
    endpoint: str | None
    dataset: str | None
    model_name: str | None
    model_version: str | None
    index_version: str | None
    input_sha256: str | None
    summary: dict[str, Any]
    hash: str
    feedback: list[FeedbackOut] = Field(default_factory=list)


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


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    state: Literal["active", "revoked", "expired"]


class DocumentText(BaseModel):
    text: str
    pages: int = Field(ge=0)
    kind: Literal["txt", "pdf", "docx"]


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
