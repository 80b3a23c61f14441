from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from casecast.serving.dependencies import CaseReader, ServicesDep, SimilarCaller
from casecast.serving.routes import errors
from casecast.serving.schemas import CaseResponse, PrecedentOut

router = APIRouter(prefix="/v1/cases", tags=["cases"])
CaseId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/{case_id}", response_model=CaseResponse, responses=errors(404, 422, 503))
def get_case(case_id: CaseId, services: ServicesDep, _: CaseReader) -> CaseResponse:
    """One indexed past case: its facts and its outcome."""
    return services.precedents.case(case_id)


@router.get(
    "/{case_id}/similar", response_model=list[PrecedentOut], responses=errors(404, 422, 503)
)
async def similar(
    case_id: CaseId,
    services: ServicesDep,
    caller: SimilarCaller,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[PrecedentOut]:
    """More like this: the cases closest to an indexed case, itself excluded."""
    return await services.run(services.precedents.similar, caller, case_id, k)
