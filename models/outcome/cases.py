"""Raw cases to what the learners read first: paragraphs, passages and passage vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from casecast.data.schema import TEXT_COLUMN
from casecast.data.sections import pre_decision_paragraphs
from casecast.data.text import split_paragraphs
from casecast.features.chunking import Chunk, ParagraphChunker, spread_positions
from casecast.features.embedding import SentenceEmbedder


@dataclass
class PreparedCases:
    """Cases split into paragraphs and passages, with the vectors of the embedded passages."""

    paragraphs: list[list[str]]
    chunks: list[list[Chunk]]
    embedded: list[list[int]]  # positions in ``chunks`` that carry a vector
    vectors: list[np.ndarray]  # one (len(embedded), dimension) matrix per case
    inputs: pd.DataFrame  # the structured fields, one row per case
    dimension: int  # of a passage vector

    def __len__(self) -> int:
        return len(self.paragraphs)

    def texts(self) -> list[str]:
        """Each case's paragraphs joined back into one text."""
        return [join_paragraphs(p) for p in self.paragraphs]


def join_paragraphs(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(paragraphs)


def input_frame(X: Any, categorical: Sequence[str], numeric: Sequence[str]) -> pd.DataFrame:
    """The text and the model's fields, in that order; a field the caller lacks is missing."""
    frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    if TEXT_COLUMN not in frame.columns:
        raise ValueError(f"input needs a {TEXT_COLUMN!r} column")
    for column in (*categorical, *numeric):
        if column not in frame.columns:
            frame[column] = None
    return frame[[TEXT_COLUMN, *categorical, *numeric]].reset_index(drop=True)


class CasePreparer(TransformerMixin, BaseEstimator):
    """Split each case's text into paragraphs and passages and embed the passages it may.

    ``max_chunks_per_case`` bounds the passages embedded per case (0 = all), spread over the
    text; the embedder's cache makes a second pass over the same cases free. Texts in a
    ``language`` with a section parser keep only what is known before the decision.
    """

    def __init__(
        self,
        embedder: SentenceEmbedder | None = None,
        chunk_tokens: int = 128,
        chunk_overlap: int = 16,
        max_chunks_per_case: int = 2,
        use_embeddings: bool = True,
        language: str = "en",
    ) -> None:
        self.language = language
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap
        self.max_chunks_per_case = max_chunks_per_case
        self.use_embeddings = use_embeddings

    def fit(self, X: Any = None, y: Any = None) -> CasePreparer:
        self.embedder_ = clone(self.embedder or SentenceEmbedder()).fit()
        self.chunker_ = ParagraphChunker(self.chunk_tokens, self.chunk_overlap).fit()
        return self

    def transform(
        self,
        frame: pd.DataFrame,
        progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> PreparedCases:
        """``frame``'s cases prepared; ``on_total`` hears how many passages will be embedded."""
        check_is_fitted(self, "embedder_")
        paragraphs = [
            pre_decision_paragraphs(split_paragraphs(str(t or "")), self.language)
            for t in frame[TEXT_COLUMN]
        ]
        chunks = self.chunker_.transform(paragraphs)
        embedded = [spread_positions(len(c), self.max_chunks_per_case) for c in chunks]
        if not self.use_embeddings:
            embedded = [[] for _ in chunks]
        wanted = [chunks[i][j].text for i, picks in enumerate(embedded) for j in picks]
        if on_total is not None:
            on_total(len(wanted))
        flat = self.embedder_.transform(wanted, progress=progress)
        vectors, start = [], 0
        for picks in embedded:
            vectors.append(flat[start : start + len(picks)])
            start += len(picks)
        inputs = frame.drop(columns=[TEXT_COLUMN]).reset_index(drop=True)
        return PreparedCases(
            paragraphs, chunks, embedded, vectors, inputs, self.embedder_.dimension_
        )
