from __future__ import annotations

from fastapi import APIRouter

from serving.dependencies import RequestIdDep, ServicesDep
from serving.schemas import ErrorResponse, PredictRequest, PredictResponse

router = APIRouter(prefix="/v1", tags=["predictions"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 413, 422, 503)}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS)
def predict(
    body: PredictRequest, services: ServicesDep, request_id: RequestIdDep
) -> PredictResponse:
    """Probability of each outcome for the facts given, with the reasons behind it."""
    return services.predict(request_id, body)
