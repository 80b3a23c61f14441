from __future__ import annotations

from fastapi import APIRouter

from serving.dependencies import MetricsDep, RequestIdDep, ServicesDep, SettingsDep
from serving.schemas import (
    ErrorResponse,
    GroupRecord,
    ModelRef,
    PredictRequest,
    PredictResponse,
    TrackRecord,
)
from serving.services import group_record

router = APIRouter(prefix="/v1", tags=["predictions"])
ERRORS = {code: {"model": ErrorResponse} for code in (404, 413, 422, 503)}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS)
def predict(
    body: PredictRequest,
    services: ServicesDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    request_id: RequestIdDep,
) -> PredictResponse:
    """Probability of each outcome for the facts given, with the reasons behind it."""
    services.check_text(body.text)
    outcome = services.outcome(body.dataset)
    result = outcome.predict(body.text, body.fields, body.explain, settings.explain_top_k)
    assert outcome.info is not None
    services.audit_prediction(
        request_id, body.dataset, body.text, body.fields, result, outcome.info
    )
    group = group_record(outcome.card, body.fields, outcome.info.params.get("validation_from"))
    metrics.predictions.labels(body.dataset, outcome.info.version, result["label"]).inc()
    return PredictResponse(
        request_id=request_id,
        dataset=body.dataset,
        model=ModelRef(name=outcome.info.name, version=outcome.info.version, uri=outcome.uri),
        track_record=TrackRecord(**outcome.track_record) if outcome.track_record else None,
        group_record=GroupRecord(**group) if group else None,
        **result,
    )
