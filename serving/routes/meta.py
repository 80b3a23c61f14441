from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from casecast.serving.dependencies import CardReader, MetricsDep, ServicesDep
from casecast.serving.routes import errors
from casecast.serving.schemas import DatasetName, HealthResponse, ModelCard, ReadyResponse

router = APIRouter(tags=["service"])


@router.get("/v1/model", response_model=ModelCard, responses=errors(404, 422, 503))
def model_card(
    services: ServicesDep, _: CardReader, dataset: Annotated[DatasetName, Query()] = "echr"
) -> ModelCard:
    """The served model: version, validation figures and training data."""
    return services.predictions.model_card(dataset)


@router.get(
    "/v1/model/reliability.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **errors(404, 422, 503)},
)
def reliability(
    services: ServicesDep, _: CardReader, dataset: Annotated[DatasetName, Query()] = "echr"
) -> Response:
    """The served model's reliability diagram: estimated against observed, on later cases."""
    return Response(services.predictions.reliability_png(dataset), media_type="image/png")


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus exposition: requests, latency, predictions, searches, audit writes, the
    versions served, batches and the worker queue."""
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


@router.get("/health", response_model=HealthResponse)
def health(services: ServicesDep) -> HealthResponse:
    """Alive: answers whenever the process does, with each data set's model and index."""
    return services.health()


@router.get("/ready", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}})
def ready(services: ServicesDep) -> JSONResponse:
    """Ready to serve: every model and index loaded and each pair matching (else 503)."""
    health = services.health()
    body = ReadyResponse(**health.model_dump(), ready=health.status == "ok")
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if body.ready else 503)
