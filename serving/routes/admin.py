from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from casecast.serving.dependencies import KeyAdmin, ModelAdmin, ServicesDep
from casecast.serving.routes import errors
from casecast.serving.schemas import ApiKeyOut, DatasetName, RegisteredVersion, ReloadResponse

router = APIRouter(prefix="/v1/admin", tags=["administration"])


@router.post("/reload", response_model=ReloadResponse, responses=errors(404, 422, 503))
async def reload(
    services: ServicesDep,
    _: ModelAdmin,
    dataset: Annotated[DatasetName | None, Query()] = None,
) -> ReloadResponse:
    """Load now what the registry alias and the index pointer name, and swap it in."""
    changes = await services.run(services.refresh, dataset)
    return ReloadResponse(changes=changes, health=services.health())


@router.get("/versions", response_model=list[RegisteredVersion], responses=errors(404, 422, 503))
def versions(
    services: ServicesDep, _: ModelAdmin, dataset: Annotated[DatasetName, Query()] = "echr"
) -> list[RegisteredVersion]:
    """Every registered version of a data set's model, with its aliases and index."""
    return services.predictions.registered_versions(dataset)


@router.get("/keys", response_model=list[ApiKeyOut], responses=errors(503))
def keys(services: ServicesDep, _: KeyAdmin) -> list[ApiKeyOut]:
    """Every API key (never a secret): who, which role, active, revoked or expired."""
    return services.oversight.api_keys()


@router.post("/keys/{key_id}/revoke", response_model=ApiKeyOut, responses=errors(404, 422, 503))
def revoke(
    key_id: Annotated[str, Path(min_length=1, max_length=32)], services: ServicesDep, _: KeyAdmin
) -> ApiKeyOut:
    """Revoke a key at once; its records keep naming it."""
    return services.oversight.revoke_key(key_id)
