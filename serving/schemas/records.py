"""The audit log as the API shows it: records, feedback, API keys."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from casecast.serving.schemas.common import Strict


class FeedbackRequest(Strict):
    verdict: Literal["agree", "disagree"]
    comment: str = Field(default="", max_length=2000)


class FeedbackOut(BaseModel):
    record_id: str
    ts: str
    key_id: str | None
    role: str | None
    verdict: str
    comment: str


class AuditRecordOut(BaseModel):
    """A prediction as the audit log holds it: never the case text, only its hash."""

    record_id: str
    seq: int = Field(description="position in the hash chain")
    ts: str
    kind: str
    endpoint: str | None
    dataset: str | None
    model_name: str | None
    model_version: str | None
    index_version: str | None
    input_sha256: str | None
    summary: dict[str, Any]
    hash: str
    feedback: list[FeedbackOut] = Field(default_factory=list)


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    state: Literal["active", "revoked", "expired"]
