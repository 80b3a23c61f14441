"""Encoder calls of concurrent threads grouped into one batch.

A server answers many requests at once, each embedding a handful of passages. Run side by
side, their encoder calls contend for the same cores at small-batch efficiency; grouped, the
encoder runs once on all of them. One worker thread per encoder takes the first waiting call,
gathers the calls that arrive within a short window (up to a bounded number of texts), runs
one encode per role, and hands each caller its own rows.

Grouping is process-wide and off until ``configure`` turns it on (the server does, from its
settings): an encoder is loaded once per process, so its batches are too.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

Role = Literal["query", "passage"]


class _Encodes(Protocol):
    def encode(self, texts: list[str], role: Role, batch_size: int) -> np.ndarray: ...


@dataclass
class _Call:
    texts: list[str]
    role: Role
    batch_size: int
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class BatchingConfig:
    window_s: float = 0.0  # 0: every call runs on its own, in its own thread
    max_texts: int = 256
    observe: Callable[[int], None] | None = None  # told each batch's number of texts


_config = BatchingConfig()
_wrappers: dict[int, GroupingEncoder] = {}
_lock = threading.Lock()


def configure(
    window_s: float, max_texts: int = 256, observe: Callable[[int], None] | None = None
) -> None:
    """Group encoder calls that arrive within ``window_s`` of each other, up to
    ``max_texts`` texts a batch (``window_s`` 0 turns grouping off)."""
    global _config
    with _lock:
        _config = BatchingConfig(window_s, max_texts, observe)
        for wrapper in _wrappers.values():
            wrapper.config = _config


def grouped(encoder: Any) -> Any:
    """``encoder`` as the embedders should call it: itself, or its grouping wrapper."""
    if _config.window_s <= 0:
        return encoder
    with _lock:
        wrapper = _wrappers.get(id(encoder))
        if wrapper is None:
            wrapper = _wrappers[id(encoder)] = GroupingEncoder(encoder, _config)
        return wrapper


class GroupingEncoder:
    """An encoder whose ``encode`` calls from concurrent threads share batches; everything
    else (identity, prefixes, token counts) is the wrapped encoder's."""

    def __init__(self, inner: _Encodes, config: BatchingConfig) -> None:
        self.inner = inner
        self.config = config
        self._calls: queue.Queue[_Call] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def encode(self, texts: list[str], role: Role, batch_size: int) -> np.ndarray:
        call = _Call(list(texts), role, batch_size)
        self._ensure_worker()
        self._calls.put(call)
        call.done.wait()
        if call.error is not None:
            raise call.error
        assert call.vectors is not None
        return call.vectors

    def _ensure_worker(self) -> None:
        with self._start:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._serve, name="casecast-encoder-batches", daemon=True
                )
                self._worker.start()

    def _serve(self) -> None:
        while True:
            self._run(self._gather(self._calls.get()))

    def _gather(self, first: _Call) -> list[_Call]:
        calls, texts = [first], len(first.texts)
        deadline = time.monotonic() + self.config.window_s
        while texts < self.config.max_texts:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                call = self._calls.get(timeout=remaining)
            except queue.Empty:
                break
            calls.append(call)
            texts += len(call.texts)
        return calls

    def _run(self, calls: list[_Call]) -> None:
        for role in dict.fromkeys(call.role for call in calls):
            group = [call for call in calls if call.role == role]
            texts = [text for call in group for text in call.texts]
            try:
                vectors = self.inner.encode(texts, role, max(c.batch_size for c in group))
                start = 0
                for call in group:
                    call.vectors = vectors[start : start + len(call.texts)]
                    start += len(call.texts)
            except BaseException as error:  # each caller gets the error, the worker goes on
                for call in group:
                    call.error = error
            finally:
                for call in group:
                    call.done.set()
            if self.config.observe is not None:
                self.config.observe(len(texts))
