from __future__ import annotations

from fastapi import APIRouter

from casecast.serving.dependencies import PredictCaller, RequestIdDep, ServicesDep
from casecast.serving.routes import errors
from casecast.serving.schemas import PredictRequest, PredictResponse

router = APIRouter(prefix="/v1", tags=["predictions"])


@router.post(
    "/predict", response_model=PredictResponse, responses=errors(400, 404, 413, 415, 422, 503)
)
async def predict(
    body: PredictRequest, services: ServicesDep, request_id: RequestIdDep, caller: PredictCaller
) -> PredictResponse:
    """Probability of each outcome for the facts given, with the reasons behind it."""
    return await services.run(services.predictions.predict, caller, request_id, body)
