"""The web page: server-rendered in the reader's language, with a little JavaScript.

Every string people read is in a translation catalogue (``serving/locales/<lang>.json``:
Kazakh, Russian, English), none in code; the page's language comes from ``?lang=``, else
the browser's ``Accept-Language``, else English. The JavaScript receives the same catalogue
and words the API's numbers (probabilities, effects, track records) itself, so reasons and
records read in the page's language too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

LOCALES = Path(__file__).parent / "locales"
TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("kk", "ru", "en")  # the order of the switch: the country's languages first
DEFAULT_LANGUAGE = "en"

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)


@cache
def catalogue(language: str) -> dict[str, str]:
    """The interface strings of ``language``."""
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


def negotiate(requested: str | None, accept_language: str | None) -> str:
    """``requested`` when it is one of ours, else the best of ``Accept-Language``."""
    if requested in LANGUAGES:
        return requested
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, weight = part.strip().partition(";q=")
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            try:
                quality = float(weight) if weight else 1.0
            except ValueError:
                quality = 0.0
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


def render_page(
    language: str,
    datasets: list[str],
    mlflow_ui: str | None,
    spec_strings: dict[str, str] | None = None,
    layout: dict[str, dict[str, list[str]]] | None = None,
) -> str:
    """The page; ``spec_strings``: words the data sets' specs give (a court, its outcomes and
    fields), used where the catalogue has none; ``layout``: per data set, the search
    ``filters`` and the claimant's optional ``form`` fields it shows."""
    strings = {**(spec_strings or {}), **catalogue(language)}
    context: dict[str, Any] = {
        "lang": language,
        "t": strings,
        "languages": [(code, catalogue(code)["lang.name"]) for code in LANGUAGES],
        "datasets": datasets,
        "mlflow_ui": mlflow_ui,
        # Inside <script>: "</" could close it, so it is escaped.
        "strings_json": json.dumps(strings, ensure_ascii=False).replace("</", "<\\/"),
        "layout_json": json.dumps(layout or {}).replace("</", "<\\/"),
    }
    return _templates.get_template("page.html").render(**context)
