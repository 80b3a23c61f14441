"""Human oversight of the models in use: who may ask (API keys and roles) and what was
asked and answered (the hash-chained audit log). Shared by the server and the CLI."""

from casecast.models.oversight.audit import (
    AuditEntry,
    AuditLedger,
    AuditRecord,
    Problem,
    Verification,
    text_sha256,
)
from casecast.models.oversight.keys import ROLES, ApiKey, KeyRejectedError, KeyStore, Role

__all__ = [
    "ROLES",
    "ApiKey",
    "AuditEntry",
    "AuditLedger",
    "AuditRecord",
    "KeyRejectedError",
    "KeyStore",
    "Problem",
    "Role",
    "Verification",
    "text_sha256",
]
