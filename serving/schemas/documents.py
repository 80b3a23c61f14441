"""Uploaded case files."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DocumentText(BaseModel):
    text: str
    pages: int = Field(ge=0)
    kind: Literal["txt", "pdf", "docx"]
