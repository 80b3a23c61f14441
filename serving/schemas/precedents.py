"""Precedent search and past cases: the request, the hits with their passages, a case."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from casecast.serving.schemas.common import DatasetName, Strict, not_blank


class PrecedentFilters(Strict):
    respondent: str | None = Field(default=None, max_length=64, examples=["TUR"])
    year_min: int | None = Field(default=None, ge=1900, le=2100)
    year_max: int | None = Field(default=None, ge=1900, le=2100)
    outcome: str | None = Field(default=None, max_length=64, examples=["violation"])
    court: str | None = Field(default=None, max_length=64, examples=["CHAMBER"])
    articles: list[Annotated[str, Field(max_length=16)]] = Field(
        default_factory=list,
        max_length=200,
        description="cases that ruled on any of these (the server's max_filter_values, "
        "default 20, is the limit)",
        examples=[["6", "P1"]],
    )


class PrecedentSearchRequest(Strict):
    dataset: DatasetName = "echr"
    text: str | None = Field(default=None, min_length=1, description="facts to match; or case_id")
    case_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="find cases like this indexed case instead of a text",
    )
    k: int = Field(
        default=10,
        ge=1,
        le=500,
        description="cases wanted; the server's max_search_results (default 50) is the limit",
    )
    mode: Literal["semantic", "keyword", "hybrid"] = Field(
        default="hybrid", description="by meaning, by words (BM25), or both fused"
    )
    filters: PrecedentFilters = Field(default_factory=PrecedentFilters)

    _text_not_blank = field_validator("text")(not_blank)


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
