from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from serving.dependencies import ServicesDep
from serving.schemas import CaseResponse, ErrorResponse, PrecedentOut

router = APIRouter(prefix="/v1/cases", tags=["cases"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 503)}
CaseId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/{case_id}", response_model=CaseResponse, responses=ERRORS)
def get_case(case_id: CaseId, services: ServicesDep) -> CaseResponse:
    """One indexed past case: its facts and its outcome."""
    return services.case(case_id)


@router.get("/{case_id}/similar", response_model=list[PrecedentOut], responses=ERRORS)
def similar(
    case_id: CaseId, services: ServicesDep, k: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[PrecedentOut]:
    """More like this: the cases closest to an indexed case, itself excluded."""
    return services.similar(case_id, k)
