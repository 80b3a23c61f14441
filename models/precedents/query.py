"""The query side of an index: the encoder and chunker it was built with, loaded once and
checked, and a query's passages embedded as the index's own were."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from casecast.features.chunking import Chunk, ParagraphChunker, spread_positions
from casecast.features.embedding import Role, SentenceEmbedder
from casecast.models.precedents.languages import QueryCentring
from casecast.models.precedents.types import (
    MAX_QUERY_PASSAGES,
    IndexManifest,
    IndexUnavailableError,
)


class QueryEncoder:
    """Embeds queries for one index version. Thread-safe: the encoder loads once."""

    def __init__(
        self,
        manifest: IndexManifest,
        document_mean: np.ndarray | None = None,
        embedding_cache: Path | None = None,
    ) -> None:
        self.manifest = manifest
        self.document_mean = document_mean
        self.embedding_cache = embedding_cache
        self._lock = threading.Lock()
        self._loaded: tuple[SentenceEmbedder, ParagraphChunker, QueryCentring | None] | None = None

    def load(self) -> tuple[SentenceEmbedder, ParagraphChunker]:
        """The encoder and chunker the index was built with, loaded once; an encoder that
        loads as another model than the one recorded makes the index unusable."""
        embedder, chunker, _ = self._load()
        return embedder, chunker

    def _load(self) -> tuple[SentenceEmbedder, ParagraphChunker, QueryCentring | None]:
        with self._lock:
            if self._loaded is None:
                manifest = self.manifest
                try:
                    embedder = SentenceEmbedder(
                        model=manifest.embedding_model,
                        max_seq_length=manifest.embedding_max_seq_length,
                        cache_dir=self.embedding_cache,
                    ).fit()
                except RuntimeError as error:
                    raise IndexUnavailableError(str(error)) from error
                if (embedder.backend_, embedder.model_id_) != (
                    manifest.embedding_backend,
                    manifest.embedding_model_id,
                ):
                    raise IndexUnavailableError(
                        f"index {manifest.version} was built with {manifest.embedding_model_id}"
                        f" but {manifest.embedding_model} loads {embedder.model_id_} here: "
                        f"rebuild it with `casecast index --dataset {manifest.dataset}`"
                    )
                chunker = ParagraphChunker(manifest.chunk_tokens, manifest.chunk_overlap).fit()
                centring = (
                    QueryCentring.load(embedder, self.document_mean)
                    if self.document_mean is not None
                    else None
                )
                self._loaded = (embedder, chunker, centring)
            return self._loaded

    def passages(
        self, paragraphs: Sequence[str], max_passages: int = MAX_QUERY_PASSAGES
    ) -> list[Chunk]:
        """The query's passages that are embedded: chunked as the index's own, at most
        ``max_passages`` of them spread over the text."""
        chunks = self.load()[1].chunk(paragraphs)
        return [chunks[i] for i in spread_positions(len(chunks), max_passages)]

    def embed(
        self, chunks: Sequence[Chunk], paragraphs: Sequence[str], role: Role = "query"
    ) -> np.ndarray:
        """The passages' vectors in one batch, as queries (E5 reads a query with its own
        prefix), centred by the query's language where the index is multilingual."""
        embedder, _, centring = self._load()
        vectors = embedder.embed([chunk.text for chunk in chunks], role)
        if centring is None or not len(vectors):
            return vectors
        return centring(vectors, " ".join(paragraphs))
