"""Server settings, read once at start-up from ``CASECAST_*`` environment variables.

``python -m casecast.serving.settings`` prints the settings reference (docs/settings.md)
from the fields' descriptions; a test fails when the file is stale.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings

from casecast.data.settings import DataSettings
from casecast.models.precedents import MAX_QUERY_PASSAGES
from casecast.models.registry import CHAMPION
from casecast.models.settings import CasecastSettings


class ServingSettings(CasecastSettings):
    """What the server reads: every shared setting, and its own limits and behaviour."""

    datasets: list[str] = Field(default=["echr"], description="data sets whose models to load")
    model_alias: str = Field(default=CHAMPION, description="registry alias served per data set")
    observe_predictions: bool = Field(
        default=True,
        description="record each prediction's fields, probabilities and text embedding (no "
        "text) in the oversight database, for `casecast drift`",
    )
    class_mix: dict[str, str] = Field(
        default_factory=dict,
        description="per data set, the class mix probabilities answer for (JSON): "
        '"trained" (the calibration\'s, default), "estimated" (from the latest '
        "class_mix_window predictions' decisions, no labels) or shares such as "
        '"violation=0.66"; the decision is the class most probable at that mix',
    )
    class_mix_window: int = Field(
        default=500, ge=10, description="recent predictions an estimated class mix reads"
    )
    class_mix_min_cases: int = Field(
        default=100, ge=10, description="fewest recent predictions a mix is estimated from"
    )
    max_text_chars: int = Field(
        default=200_000, ge=1, description="longest accepted case text; longer gets 413"
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1, description="request bodies over this get 413"
    )
    max_upload_bytes: int = Field(
        default=10_000_000,
        ge=1,
        description="largest case file /v1/documents/text accepts, as sent (413 beyond)",
    )
    max_document_member_bytes: int = Field(
        default=50_000_000,
        ge=1,
        description="largest uncompressed size of the archive part a DOCX's text is read "
        "from, checked before inflating and counted while it inflates (413 beyond)",
    )
    max_document_compression_ratio: float = Field(
        default=100.0,
        gt=1,
        description="most a DOCX's text part may inflate (uncompressed / compressed); Word "
        "files compress 5-20 times, compression bombs thousands (413 beyond)",
    )
    max_document_pages: int = Field(
        default=2000, ge=1, description="most pages of a PDF that is read (413 beyond)"
    )
    document_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="wall-clock (and CPU) time one document may take to read (422 beyond)",
    )
    document_memory_bytes: int = Field(
        default=1_000_000_000,
        ge=100_000_000,
        description="address space of the process that reads one document; a file that "
        "needs more is refused (413) and the server is untouched",
    )
    max_concurrent_documents: int = Field(
        default=2,
        ge=1,
        description="documents read at once, each in its own worker process; more wait up "
        "to 10 s, then 503",
    )
    mlflow_ui_url: str | None = Field(
        default=None, description="where the page links the MLflow UI (e.g. http://host:5000)"
    )
    max_paragraphs: int = Field(
        default=2000,
        ge=1,
        description="most paragraphs of a case text a prediction or search reads (413 beyond; "
        "reasons weigh every paragraph)",
    )
    max_search_results: int = Field(
        default=50, ge=1, le=500, description="most cases one search returns (k; 422 beyond)"
    )
    max_filter_values: int = Field(
        default=20, ge=1, le=200, description="most articles one search filters by (422 beyond)"
    )
    max_json_depth: int = Field(
        default=32,
        ge=2,
        description="deepest nesting of a JSON body, counted while it streams (422 beyond)",
    )
    max_query_passages: int = Field(
        default=MAX_QUERY_PASSAGES, ge=1, description="passages of a query embedded for search"
    )
    explain_top_k: int = Field(
        default=3, ge=0, le=20, description="passages and fields named as reasons per prediction"
    )
    public_demo: bool = Field(
        default=False,
        description="answer predictions, searches, cases and the model card without a key "
        "(a public demo); records, feedback and administration always need one",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="requests a minute per key (or per address without); 0: off"
    )
    max_concurrent_requests: int = Field(
        default=64, ge=1, description="API requests served at once; beyond, 429 with Retry-After"
    )
    workers: int = Field(
        default=8,
        ge=1,
        description="threads for model and search work; more requests wait for one (queue)",
    )
    batch_window_ms: float = Field(
        default=10.0,
        ge=0,
        description="how long the encoder waits to group texts of concurrent requests; 0: off",
    )
    max_batch_texts: int = Field(default=256, ge=1, description="most texts in one encoder call")
    reload_interval_s: float = Field(
        default=30.0,
        ge=0,
        description="how often the registry alias and index pointer are checked; 0: only on "
        "POST /v1/admin/reload",
    )
    json_logs: bool = Field(default=True, description="one JSON object per log line")


def settings_reference() -> str:
    """The settings reference in Markdown: one row per variable, grouped by who reads it."""
    owners: list[tuple[str, type[BaseSettings]]] = [
        ("Data (every command and the server)", DataSettings),
        ("Training and serving", CasecastSettings),
        ("Serving", ServingSettings),
    ]
    lines = [
        "# Settings",
        "",
        "<!-- Generated from the pydantic field descriptions:",
        "     python -m casecast.serving.settings > docs/settings.md",
        "     (tests/serving/test_settings_reference.py fails when this file is stale) -->",
        "",
        "Environment variables with the prefix `CASECAST_` (pydantic-settings). No secret has",
        "a default.",
    ]
    seen: set[str] = set()
    for title, owner in owners:
        lines += ["", f"## {title}", "", "| variable | default | meaning |", "| --- | --- | --- |"]
        for name, field in owner.model_fields.items():
            if name in seen:
                continue
            seen.add(name)
            variables = _variables(name, field.validation_alias)
            default = _default(field.default, field.default_factory is not None)
            meaning = " ".join((field.description or "").split()).replace("|", "\\|")
            lines.append(f"| {variables} | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


def _variables(name: str, alias: Any) -> str:
    choices = getattr(alias, "choices", None)
    names = [str(c) for c in choices] if choices else [f"CASECAST_{name.upper()}"]
    return " or ".join(f"`{n}`" for n in names)


def _default(value: Any, from_factory: bool) -> str:
    if from_factory:
        return "found at start (see the meaning)"
    if value is None:
        return "none"
    if isinstance(value, (list, dict, bool)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


if __name__ == "__main__":
    print(settings_reference(), end="")
