"""Server settings, read once at start-up from ``CASECAST_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from models.registry import CHAMPION
from models.settings import CasecastSettings


class ServingSettings(CasecastSettings):
    datasets: list[str] = Field(default=["echr"], description="data sets whose models to load")
    model_alias: str = Field(default=CHAMPION, description="registry alias served per data set")
    max_text_chars: int = Field(
        default=200_000, ge=1, description="longest accepted case text; longer gets 413"
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1, description="request bodies over this get 413"
    )
    max_query_passages: int = Field(
        default=64, ge=1, description="passages of a query embedded for search"
    )
    explain_top_k: int = Field(default=3, ge=0, le=20)
    audit_log: Path | None = Field(
        default=None,
        description="JSON-lines log of every prediction; default <home>/audit/predictions.jsonl",
    )

    @property
    def resolved_audit_log(self) -> Path:
        return (self.audit_log or self.home / "audit" / "predictions.jsonl").resolve()
