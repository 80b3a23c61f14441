from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from models.precedents import IndexUnavailableError, SearchFilters
from serving.dependencies import ServicesDep
from serving.errors import NotFoundError
from serving.routes.precedents import case_fields, to_precedent
from serving.schemas import CaseResponse, ErrorResponse, PrecedentOut

router = APIRouter(prefix="/v1/cases", tags=["cases"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 503)}
CaseId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/{case_id}", response_model=CaseResponse, responses=ERRORS)
def get_case(case_id: CaseId, services: ServicesDep) -> CaseResponse:
    """One indexed past case: its facts and its outcome."""
    loaded = [(name, s) for name, s in services.precedents.items() if s.index is not None]
    if not loaded:
        raise IndexUnavailableError(
            "; ".join(s.error or f"no index for {name}" for name, s in services.precedents.items())
        )
    for dataset, service in loaded:
        assert service.index is not None
        found = service.index.case(case_id)
        if found is not None:
            summary, paragraphs = found
            return CaseResponse(**case_fields(summary), dataset=dataset, paragraphs=paragraphs)
    raise NotFoundError(f"no indexed case {case_id}")


@router.get("/{case_id}/similar", response_model=list[PrecedentOut], responses=ERRORS)
def similar(
    case_id: CaseId, services: ServicesDep, k: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[PrecedentOut]:
    """More like this: the cases closest to an indexed case, itself excluded."""
    for service in services.precedents.values():
        if service.index is not None and service.index.position(case_id) is not None:
            return [to_precedent(h) for h in service.search(None, case_id, k, SearchFilters())]
    raise NotFoundError(f"no indexed case {case_id}")
