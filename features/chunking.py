"""Paragraph-aware chunking by token count.

Court decisions come as numbered paragraphs, and a passage shown to a judge should start and
end on paragraph boundaries. Short paragraphs are merged up to ``max_tokens``; a paragraph
longer than that is cut into windows that overlap by ``overlap_tokens`` so no sentence is
only ever seen cut in half.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

# Words and single punctuation marks: close to a WordPiece count for English legal text
# (about 1.15 word pieces per such token), and free of any model dependency.
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage: text plus the 0-based span of paragraphs it comes from."""

    text: str
    first_paragraph: int
    last_paragraph: int
    n_tokens: int


def token_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _TOKEN.finditer(text)]


class ParagraphChunker(TransformerMixin, BaseEstimator):
    """Split each case (a sequence of paragraphs) into ``Chunk`` lists."""

    def __init__(
        self,
        max_tokens: int = 128,
        overlap_tokens: int = 16,
        tokenize: Callable[[str], list[tuple[int, int]]] | None = None,
    ) -> None:
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.tokenize = tokenize

    def fit(self, X: Any = None, y: Any = None) -> ParagraphChunker:
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise ValueError("overlap_tokens must be in [0, max_tokens)")
        self.fitted_ = True
        return self

    def transform(self, X: Sequence[Sequence[str]]) -> list[list[Chunk]]:
        return [self.chunk(paragraphs) for paragraphs in X]

    def chunk(self, paragraphs: Sequence[str]) -> list[Chunk]:
        if not hasattr(self, "fitted_"):
            self.fit()
        spans_of = self.tokenize or token_spans
        chunks: list[Chunk] = []
        pending: list[tuple[int, str, int]] = []  # (paragraph index, text, tokens)

        def flush() -> None:
            if pending:
                chunks.append(
                    Chunk(
                        text="\n".join(text for _, text, _ in pending),
                        first_paragraph=pending[0][0],
                        last_paragraph=pending[-1][0],
                        n_tokens=sum(n for _, _, n in pending),
                    )
                )
                pending.clear()

        for index, raw in enumerate(paragraphs):
            paragraph = raw.strip()
            if not paragraph:
                continue
            spans = spans_of(paragraph)
            if len(spans) > self.max_tokens:
                flush()
                chunks.extend(self._windows(index, paragraph, spans))
                continue
            if pending and sum(n for _, _, n in pending) + len(spans) > self.max_tokens:
                flush()
            pending.append((index, paragraph, len(spans)))
        flush()
        return chunks

    def _windows(self, index: int, paragraph: str, spans: list[tuple[int, int]]) -> list[Chunk]:
        stride = self.max_tokens - self.overlap_tokens
        windows = []
        for start in range(0, len(spans), stride):
            window = spans[start : start + self.max_tokens]
            windows.append(
                Chunk(paragraph[window[0][0] : window[-1][1]], index, index, len(window))
            )
            if start + self.max_tokens >= len(spans):
                break
        return windows


def spread_positions(n_items: int, limit: int | None) -> list[int]:
    """``limit`` positions spread over ``n_items`` (all of them when limit is None or 0).

    Bounds the tokens embedded per case. Positions follow the van der Corput order (the
    middle, then the quarters, then the eighths, ...), so the picks of a smaller limit are
    always among those of a larger one: a query embedded with a larger budget than the index
    contains every passage the index holds of the same text.
    """
    if not limit or n_items <= limit:
        return list(range(n_items))
    picked: dict[int, None] = {}
    i = 1
    while len(picked) < limit:
        picked.setdefault(int(_van_der_corput(i) * n_items), None)
        i += 1
    return sorted(picked)


def _van_der_corput(i: int) -> float:
    value, denominator = 0.0, 1.0
    while i:
        denominator *= 2
        i, bit = divmod(i, 2)
        value += bit / denominator
    return value
