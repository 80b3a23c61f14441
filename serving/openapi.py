"""The API's OpenAPI document, pinned in ``docs/openapi.json`` so that a change to the API is
a deliberate one (tests/serving/test_openapi.py compares the two).

``python -m casecast.serving.openapi > docs/openapi.json`` writes it anew.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from casecast.serving.app import create_app
from casecast.serving.settings import ServingSettings


def openapi_document() -> dict[str, Any]:
    """The document of an app with default settings (nothing is loaded to make it)."""
    with tempfile.TemporaryDirectory() as home:
        return create_app(ServingSettings(home=Path(home), json_logs=False)).openapi()


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(openapi_text(), end="")
