"""Versioned API routes; each stays a few lines over the services."""

from __future__ import annotations

from typing import Any

from casecast.serving.schemas import ErrorResponse

# Every route behind a key can answer these: no or a rejected key, a role without the
# permission, a rate limit or the concurrency limit reached.
ACCESS = (401, 403, 429)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route (all in the one ``ErrorResponse`` shape)."""
    return {code: {"model": ErrorResponse} for code in sorted({*ACCESS, *codes})}
