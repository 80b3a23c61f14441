from __future__ import annotations

from fastapi import APIRouter

from casecast.serving.dependencies import SearchCaller, ServicesDep
from casecast.serving.routes import errors
from casecast.serving.schemas import PrecedentSearchRequest, PrecedentSearchResponse

router = APIRouter(prefix="/v1", tags=["precedents"])


@router.post(
    "/precedents/search",
    response_model=PrecedentSearchResponse,
    responses=errors(400, 404, 413, 415, 422, 503),
)
async def search(
    body: PrecedentSearchRequest, services: ServicesDep, caller: SearchCaller
) -> PrecedentSearchResponse:
    """Past cases closest to the facts given (or to an indexed case), with matching passages."""
    return await services.run(services.precedents.search, caller, body)
