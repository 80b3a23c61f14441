"""API keys: roles, expiry and revocation, with only a hash of each secret stored.

A key reads ``cc_<key id>.<secret>``. The id finds the row; the secret is 256 random bits,
so a plain SHA-256 of it is as safe to store as a slow password hash would be (nothing to
guess), and it is compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import Engine, insert, select, update

from casecast.models.oversight.database import api_keys, open_database

Role = Literal["claimant", "judge", "data-scientist", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
PREFIX = "cc_"
# Compared against when the key id is unknown, so an unknown id costs the same time.
_DUMMY_HASH = hashlib.sha256(b"casecast-no-such-key").hexdigest()

KeyState = Literal["active", "revoked", "expired"]


class KeyRejectedError(Exception):
    """The key is missing, malformed, unknown, revoked or expired; the message says which."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    role: Role
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None

    def state(self, now: datetime | None = None) -> KeyState:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and parse_iso(self.expires_at) <= (now or utc_now()):
            return "expired"
        return "active"


def secret_hash(secret: str) -> str:
    """What the store keeps of a key's secret (SHA-256): the secret itself is never kept."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class KeyStore:
    """API keys in a database. ``clock`` says what time it is (expiry is read against it)."""

    def __init__(self, url: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.url = url
        self.clock = clock

    @functools.cached_property
    def engine(self) -> Engine:
        """Opened on first use (a database that cannot be opened fails the request that
        needs it, not the server's start; the next use tries again)."""
        return open_database(self.url)

    def create(
        self, name: str, role: str, expires_in: timedelta | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its secret token (shown once: only its hash is kept)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if not name.strip():
            raise ValueError("a key needs a name saying whose it is")
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValueError("expiry must be in the future")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = self.clock()
        key = ApiKey(
            key_id=key_id,
            name=name.strip(),
            role=role,  # type: ignore[arg-type]
            created_at=iso(now),
            expires_at=iso(now + expires_in) if expires_in is not None else None,
        )
        with self.engine.begin() as connection:
            connection.execute(
                insert(api_keys).values(
                    key_id=key.key_id,
                    name=key.name,
                    role=key.role,
                    secret_sha256=secret_hash(secret),
                    created_at=key.created_at,
                    expires_at=key.expires_at,
                )
            )
        return key, f"{PREFIX}{key_id}.{secret}"

    def list_keys(self) -> list[ApiKey]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [_key(row) for row in rows]

    def get(self, key_id: str) -> ApiKey | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        return None if row is None else _key(row)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (kept, so the audit log's key ids still name someone)."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=iso(self.clock()))
            )
        key = self.get(key_id)
        if key is None:
            raise KeyError(f"no key {key_id}")
        if done.rowcount == 0:
            raise ValueError(f"key {key_id} was already revoked at {key.revoked_at}")
        return key

    def authenticate(self, token: str) -> ApiKey:
        """The active key ``token`` belongs to; ``KeyRejectedError`` says why not."""
        key_id, dot, secret = token.removeprefix(PREFIX).partition(".")
        if not token.startswith(PREFIX) or not dot or not key_id or not secret:
            raise KeyRejectedError("malformed API key: expected cc_<id>.<secret>")
        with self.engine.connect() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        stored = row.secret_sha256 if row is not None else _DUMMY_HASH
        if not hmac.compare_digest(stored, secret_hash(secret)) or row is None:
            raise KeyRejectedError("unknown API key")
        key = _key(row)
        state = key.state(self.clock())
        if state == "revoked":
            raise KeyRejectedError(f"API key {key_id} was revoked at {key.revoked_at}")
        if state == "expired":
            raise KeyRejectedError(f"API key {key_id} expired at {key.expires_at}")
        return key


def _key(row: object) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        expires_at=row.expires_at,  # type: ignore[attr-defined]
        revoked_at=row.revoked_at,  # type: ignore[attr-defined]
    )
