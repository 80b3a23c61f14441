"""Text clean-up shared by loaders and by the models' handling of raw input text."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def strip_html(text: str) -> str:
    """Plain text from a small HTML fragment (e.g. Oyez facts), paragraph breaks kept."""
    text = re.sub(r"</p\s*>|<br\s*/?>", "\n\n", text, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", text)).strip()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a raw text: blank lines separate them; other white space is folded."""
    parts = _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n"))
    return [_SPACE.sub(" ", part).strip() for part in parts if part.strip()]
