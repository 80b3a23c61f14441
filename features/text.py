"""Text clean-up and TF-IDF features."""

from __future__ import annotations

import html
import re

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

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


def legal_tfidf(max_features: int = 200_000, min_df: int = 3) -> TfidfVectorizer:
    """Word uni- and bi-grams with sub-linear term frequency: the strong linear baseline."""
    return TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=min_df,
        max_df=0.9,
        max_features=max_features,
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
        dtype=np.float32,
    )
