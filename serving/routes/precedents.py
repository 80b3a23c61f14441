from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from models.precedents import CaseSummary, PrecedentHit, SearchFilters
from serving.dependencies import MetricsDep, ServicesDep
from serving.errors import InvalidInputError
from serving.schemas import (
    ErrorResponse,
    IndexRef,
    PassageOut,
    PrecedentOut,
    PrecedentSearchRequest,
    PrecedentSearchResponse,
)

router = APIRouter(prefix="/v1", tags=["precedents"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 413, 422, 503)}


@router.post("/precedents/search", response_model=PrecedentSearchResponse, responses=ERRORS)
def search(
    body: PrecedentSearchRequest, services: ServicesDep, metrics: MetricsDep
) -> PrecedentSearchResponse:
    """Past cases closest to the facts given (or to an indexed case), with matching passages."""
    if (body.text is None) == (body.case_id is None):
        raise InvalidInputError("give exactly one of text or case_id")
    if body.text is not None:
        services.check_text(body.text)
    service = services.precedent(body.dataset)
    fields = body.filters.model_dump()
    filters = SearchFilters(**{**fields, "articles": tuple(fields["articles"])})
    hits = service.search(body.text, body.case_id, body.k, filters, body.mode)
    metrics.searches.labels(body.dataset, body.mode).inc()
    manifest = service.require().manifest
    return PrecedentSearchResponse(
        dataset=body.dataset,
        results=[to_precedent(hit) for hit in hits],
        index=IndexRef(
            version=manifest.version,
            embedding_model=manifest.embedding_model_id,
            n_cases=manifest.n_cases,
            mode=body.mode,
        ),
    )


def case_fields(case: CaseSummary) -> dict[str, Any]:
    """A stored case summary as the API's ``CaseFields``."""
    return {
        "case_id": case.case_id,
        "title": case.title,
        "year": case.year,
        "court": case.court,
        "parties": case.parties,
        "outcome": case.outcome,
        "violated_articles": case.violated,
        "examined_articles": case.examined,
    }


def to_precedent(hit: PrecedentHit) -> PrecedentOut:
    return PrecedentOut(
        **case_fields(hit.case),
        score=hit.score,
        passages=[
            PassageOut(paragraphs=list(p.paragraphs), text=p.text, score=p.score)
            for p in hit.passages
        ],
    )
