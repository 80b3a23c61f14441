"""Oversight as served: the key store, the audit chain and per-key rate limits, and the
routes' work on them (prediction records, judges' feedback, key administration)."""

from __future__ import annotations

import logging
from typing import Any

from casecast.models.oversight import AuditEntry, AuditLedger, AuditRecord, KeyStore
from casecast.models.oversight.audit import Kind
from casecast.models.oversight.keys import ApiKey
from casecast.models.oversight.observations import ObservationStore
from casecast.serving.access import Permission, Principal, RateLimiter
from casecast.serving.errors import InvalidInputError, NotFoundError, UnavailableError
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.schemas import ApiKeyOut, AuditRecordOut, FeedbackOut, FeedbackRequest
from casecast.serving.settings import ServingSettings

log = logging.getLogger("casecast.serving")


class OversightService:
    def __init__(self, settings: ServingSettings, metrics: ServiceMetrics) -> None:
        url = settings.resolved_oversight_url
        key = settings.audit_hmac_key
        self.keys = KeyStore(url)
        self.audit = AuditLedger(url, key.get_secret_value() if key else None)
        self.observations = ObservationStore(url)
        self.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
        self.metrics = metrics
        self.settings = settings

    def migrate_legacy_log(self) -> None:
        """Move the JSON-lines log of earlier versions into the chain; on failure it stays
        where it is and is tried again at the next start."""
        try:
            moved = self.audit.migrate_jsonl(self.settings.legacy_audit_log)
        except Exception as error:
            log.error("could not move the JSON-lines log into the audit chain: %s", error)
            return
        if moved:
            log.info("moved %d records of the JSON-lines log into the audit chain", moved)

    def record(self, entry: AuditEntry) -> AuditRecord:
        """Write an audit record; an answer that could not be recorded is not handed out."""
        try:
            record = self.audit.append(entry)
        except Exception as error:
            self.metrics.audit_writes.labels(entry.kind, "failed").inc()
            log.error("could not write the audit log: %s", error)
            raise UnavailableError(
                f"the {entry.kind} could not be recorded in the audit log"
            ) from error
        self.metrics.audit_writes.labels(entry.kind, "ok").inc()
        return record

    def observe(
        self,
        record: AuditRecord,
        fields: dict[str, Any],
        probabilities: dict[str, float],
        vector: list[float] | None,
    ) -> None:
        """What `casecast drift` reads of a prediction (no text). The audit record, already
        written, is what accountability needs: a failure here is logged and counted, and the
        answer still goes out."""
        try:
            self.observations.add(
                record.record_id,
                record.dataset or "",
                record.model_name or "",
                record.model_version or "",
                fields,
                probabilities,
                vector,
            )
        except Exception as error:
            self.metrics.observations.labels("failed").inc()
            log.error("could not record the prediction for drift monitoring: %s", error)
            return
        self.metrics.observations.labels("ok").inc()

    # -- records and feedback ---------------------------------------------------------------

    def prediction_record(self, principal: Principal, record_id: str) -> AuditRecordOut:
        """A prediction's audit record with its feedback. Another key's record is "not
        found", not "forbidden": a claimant cannot even learn that it exists (OWASP API1)."""
        record = self.audit.get(record_id)
        if (
            record is None
            or record.kind != "prediction"
            or not (record.key_id == principal.key_id or principal.may(Permission.ANY_RECORDS))
        ):
            raise NotFoundError(f"no prediction record {record_id} for this key")
        return _record_out(record, self.audit.feedback_on([record_id])[record_id])

    def prediction_records(self, principal: Principal, limit: int) -> list[AuditRecordOut]:
        """The key's own newest prediction records, with their feedback (one query for all)."""
        records = self.audit.records(key_id=principal.key_id, kind="prediction", limit=limit)
        feedback = self.audit.feedback_on([r.record_id for r in records])
        return [_record_out(r, feedback[r.record_id]) for r in records]

    def feedback(self, principal: Principal, record_id: str, body: FeedbackRequest) -> FeedbackOut:
        """A judge's agreement or disagreement, chained beside the prediction it concerns."""
        target = self.audit.get(record_id)
        if target is None or target.kind != "prediction":
            raise NotFoundError(f"no prediction record {record_id}")
        record = self.record(
            entry(
                principal,
                "feedback",
                "/v1/predictions/{record_id}/feedback",
                dataset=target.dataset,
                model_name=target.model_name,
                model_version=target.model_version,
                subject=record_id,
                summary={"verdict": body.verdict, "comment": body.comment},
            )
        )
        return _feedback_out(record)

    # -- keys -------------------------------------------------------------------------------

    def api_keys(self) -> list[ApiKeyOut]:
        return [_key_out(key) for key in self.keys.list_keys()]

    def revoke_key(self, key_id: str) -> ApiKeyOut:
        try:
            key = self.keys.revoke(key_id)
        except KeyError:
            raise NotFoundError(f"no API key {key_id}") from None
        except ValueError as error:
            raise InvalidInputError(str(error)) from None
        return _key_out(key)


def entry(principal: Principal, kind: Kind, endpoint: str, **fields: Any) -> AuditEntry:
    """An audit record of what ``principal`` asked of ``endpoint``."""
    return AuditEntry(
        kind=kind, key_id=principal.key_id, role=principal.role, endpoint=endpoint, **fields
    )


def _key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(**vars(key), state=key.state())


def _feedback_out(record: AuditRecord) -> FeedbackOut:
    return FeedbackOut(
        record_id=record.record_id,
        ts=record.ts,
        key_id=record.key_id,
        role=record.role,
        verdict=str(record.summary.get("verdict", "")),
        comment=str(record.summary.get("comment", "")),
    )


def _record_out(record: AuditRecord, feedback: list[AuditRecord]) -> AuditRecordOut:
    # The wire record names what it shows (never the case text); the rest is the record's.
    shown = {
        name: getattr(record, name) for name in AuditRecordOut.model_fields if name != "feedback"
    }
    return AuditRecordOut(**shown, feedback=[_feedback_out(f) for f in feedback])
