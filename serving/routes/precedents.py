from __future__ import annotations

from fastapi import APIRouter

from serving.dependencies import ServicesDep
from serving.schemas import ErrorResponse, PrecedentSearchRequest, PrecedentSearchResponse

router = APIRouter(prefix="/v1", tags=["precedents"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 413, 422, 503)}


@router.post("/precedents/search", response_model=PrecedentSearchResponse, responses=ERRORS)
def search(body: PrecedentSearchRequest, services: ServicesDep) -> PrecedentSearchResponse:
    """Past cases closest to the facts given (or to an indexed case), with matching passages."""
    return services.search(body)
