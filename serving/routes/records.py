from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from casecast.serving.dependencies import FeedbackGiver, RecordReader, ServicesDep
from casecast.serving.routes import errors
from casecast.serving.schemas import AuditRecordOut, FeedbackOut, FeedbackRequest

router = APIRouter(prefix="/v1/predictions", tags=["records"])
RecordId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=list[AuditRecordOut], responses=errors(422, 503))
def own_records(
    services: ServicesDep, caller: RecordReader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[AuditRecordOut]:
    """Your key's newest prediction records, with the feedback given on them."""
    return services.oversight.prediction_records(caller, limit)


@router.get("/{record_id}", response_model=AuditRecordOut, responses=errors(404, 422, 503))
def record(record_id: RecordId, services: ServicesDep, caller: RecordReader) -> AuditRecordOut:
    """One prediction as the audit log holds it (your own; every one for data scientists)."""
    return services.oversight.prediction_record(caller, record_id)


@router.post(
    "/{record_id}/feedback",
    response_model=FeedbackOut,
    status_code=201,
    responses=errors(400, 404, 413, 415, 422, 503),
)
def feedback(
    record_id: RecordId, body: FeedbackRequest, services: ServicesDep, caller: FeedbackGiver
) -> FeedbackOut:
    """Agree or disagree with a prediction, with a comment, stored in the audit chain."""
    return services.oversight.feedback(caller, record_id, body)
