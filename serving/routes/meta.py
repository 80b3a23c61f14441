from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from models.registry import ModelNotAvailableError
from serving.dependencies import MetricsDep, ServicesDep
from serving.schemas import ComponentHealth, DatasetHealth, ErrorResponse, HealthResponse, ModelCard

router = APIRouter(tags=["service"])

# What a model card shows of a training run: its figures and where its data came from.
_TRAINING_TAGS = ("data_fingerprint", "data_sources", "dataset", "inputs")
_CARD_PARAMS = (
    "validation_from",
    "n_cases",
    "n_validation",
    "embedding_model_id",
    "max_chunks_per_case",
    "chunk_tokens",
    "C",
)


@router.get(
    "/v1/model",
    response_model=ModelCard,
    responses={code: {"model": ErrorResponse} for code in (404, 503)},
)
def model_card(
    services: ServicesDep, dataset: Annotated[str, Query(max_length=32)] = "echr"
) -> ModelCard:
    """The served model: version, validation figures and training data."""
    outcome = services.outcome(dataset)
    if outcome.info is None:
        raise ModelNotAvailableError(outcome.error or f"no model for {dataset}")
    info = outcome.info
    return ModelCard(
        dataset=dataset,
        name=info.name,
        version=info.version,
        uri=outcome.uri,
        aliases=list(info.aliases),
        inputs=list(outcome.input_types),
        metrics={k: v for k, v in info.metrics.items() if k.startswith("val_")},
        training_data={k: v for k, v in info.tags.items() if k in _TRAINING_TAGS},
        params={k: v for k, v in info.params.items() if k in _CARD_PARAMS},
        card=outcome.card,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus exposition: request counts and latency by route, predictions, searches."""
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


@router.get("/health", response_model=HealthResponse)
def health(services: ServicesDep) -> HealthResponse:
    """Whether each data set's model and index are loaded (degraded, never down, when not)."""
    datasets = {}
    for name, outcome in services.outcomes.items():
        precedent = services.precedents[name]
        datasets[name] = DatasetHealth(
            model=ComponentHealth(
                ready=outcome.info is not None,
                version=outcome.info.version if outcome.info else None,
                detail=outcome.error,
            ),
            index=ComponentHealth(
                ready=precedent.index is not None,
                version=precedent.index.manifest.version if precedent.index else None,
                detail=precedent.error,
            ),
        )
    ready = all(d.model.ready and d.index.ready for d in datasets.values())
    return HealthResponse(status="ok" if ready else "degraded", datasets=datasets)
