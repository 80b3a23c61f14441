"""Who may do what: API keys checked per request, permissions by role, per-key rate limits.

A key travels as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Missing or
rejected (unknown, revoked, expired) is 401; a role without the permission is 403. With
``CASECAST_PUBLIC_DEMO`` the endpoints that only read the models and the published decisions
(prediction, search, cases, the model card) answer without a key; records, feedback and
administration never do.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from casecast.models.oversight import KeyRejectedError, KeyStore
from casecast.serving.errors import (
    ForbiddenError,
    RateLimitedError,
    UnauthorizedError,
    UnavailableError,
)


class Permission(StrEnum):
    PREDICT = "predict"
    SEARCH = "search"
    READ_CASES = "read cases"
    READ_MODEL_CARD = "read the model card"
    OWN_RECORDS = "read own prediction records"
    SIMILAR = "similar cases"
    FEEDBACK = "give feedback on a prediction"
    ANY_RECORDS = "read every prediction record"
    ADMIN_MODELS = "administer models and indexes"
    ADMIN_KEYS = "administer API keys"


_CLAIMANT = frozenset(
    {
        Permission.PREDICT,
        Permission.SEARCH,
        Permission.READ_CASES,
        Permission.READ_MODEL_CARD,
        Permission.OWN_RECORDS,
    }
)
_JUDGE = _CLAIMANT | {Permission.SIMILAR, Permission.FEEDBACK}
_DATA_SCIENTIST = _JUDGE | {Permission.ANY_RECORDS, Permission.ADMIN_MODELS}
GRANTS: dict[str, frozenset[Permission]] = {
    "claimant": _CLAIMANT,
    "judge": _JUDGE,
    "data-scientist": _DATA_SCIENTIST,
    "admin": _DATA_SCIENTIST | {Permission.ADMIN_KEYS},
}
# What the public demo opens: reading the models and the published decisions.
PUBLIC = frozenset(
    {
        Permission.PREDICT,
        Permission.SEARCH,
        Permission.READ_CASES,
        Permission.READ_MODEL_CARD,
        Permission.SIMILAR,
    }
)
PUBLIC_KEY_ID = "public"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a key (its id, name and role) or the public demo's visitor."""

    key_id: str
    role: str
    name: str

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS.get(self.role, PUBLIC if self.role == "public" else ())


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, bursts up to that many."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> float:
        """0 when a request may go now, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[who] = (tokens - 1, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return (1 - tokens) / self.rate


_bearer = HTTPBearer(auto_error=False, description="an API key from `casecast keys create`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the same key")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
HeaderDep = Annotated[str | None, Depends(_header)]


def requires(permission: Permission) -> Callable[..., Principal]:
    """A dependency: the caller, once their key (or the public demo) allows ``permission``
    and their rate limit has room."""

    def authorize(request: Request, bearer: BearerDep, header: HeaderDep) -> Principal:
        services = request.app.state.services
        token = bearer.credentials if bearer is not None else header
        principal = _principal(services.oversight.keys, token, services.settings.public_demo)
        if principal is None or (
            principal.key_id == PUBLIC_KEY_ID and not principal.may(permission)
        ):
            raise UnauthorizedError(
                f"{permission} needs an API key (Authorization: Bearer <key>, or X-API-Key)"
            )
        if not principal.may(permission):
            raise ForbiddenError(f"the {principal.role} role may not {permission}")
        who = principal.key_id if principal.key_id != PUBLIC_KEY_ID else _client(request)
        wait = services.oversight.rate_limiter.take(who)
        if wait:
            raise RateLimitedError(
                "rate limit reached for this key; try again shortly", math.ceil(wait)
            )
        request.state.principal = principal
        return principal

    return authorize


def _principal(keys: KeyStore, token: str | None, public_demo: bool) -> Principal | None:
    if not token:
        return Principal(PUBLIC_KEY_ID, "public", "public demo") if public_demo else None
    try:
        key = keys.authenticate(token)
    except KeyRejectedError as error:
        raise UnauthorizedError(str(error)) from None
    except SQLAlchemyError as error:
        raise UnavailableError("the API key store cannot be read; try again later") from error
    return Principal(key.key_id, key.role, key.name)


def _client(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"
