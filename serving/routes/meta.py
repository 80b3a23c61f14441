from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from serving.dependencies import MetricsDep, ServicesDep
from serving.schemas import ErrorResponse, HealthResponse, ModelCard

router = APIRouter(tags=["service"])


@router.get(
    "/v1/model",
    response_model=ModelCard,
    responses={code: {"model": ErrorResponse} for code in (404, 503)},
)
def model_card(
    services: ServicesDep, dataset: Annotated[str, Query(max_length=32)] = "echr"
) -> ModelCard:
    """The served model: version, validation figures and training data."""
    return services.model_card(dataset)


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus exposition: request counts and latency by route, predictions, searches."""
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


@router.get("/health", response_model=HealthResponse)
def health(services: ServicesDep) -> HealthResponse:
    """Whether each data set's model and index are loaded and belong together."""
    return services.health()
