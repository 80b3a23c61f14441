"""What every schema family shares: data set names, field values, strict requests."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

DatasetName = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$", examples=["echr"])
]
FieldValue = str | int | float | None
DISCLAIMER = (
    "An estimate from past published decisions, for information only: it is not legal advice "
    "and does not bind any court. A person must review it."
)


class Strict(BaseModel):
    """A request body: unknown keys are refused (422), not ignored."""

    model_config = ConfigDict(extra="forbid")


def not_blank(text: str | None) -> str | None:
    if text is not None and not text.strip():
        raise ValueError("must contain some text, not only white space")
    return text


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
