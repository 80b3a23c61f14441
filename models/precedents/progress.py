"""The state of an index build, on disk beside the versions it builds, so that a server (or
another shell) can say how far a build running elsewhere has come.

One JSON file per version under ``<index_dir>/<dataset>/builds/``: what is being built, how
many passages are embedded of how many, since when, by which process. The build rewrites it
atomically as it goes (at most once a second); a build that stopped without saying so (killed,
machine restarted) is told apart by its process no longer running on this host or by a stale
``updated_at``. Embeddings are committed to the cache block by block, so the same build
started again resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Literal

BUILDS = "builds"
State = Literal["embedding", "indexing", "done", "failed", "stopped"]
RUNNING: tuple[State, ...] = ("embedding", "indexing")
STALE_AFTER_S = 600.0  # a running build silent this long (on another host) has stopped
WRITE_EVERY_S = 1.0


@dataclass(frozen=True)
class BuildStatus:
    dataset: str
    version: str
    max_chunks_per_case: int  # 0: every passage (the full profile)
    state: State
    total: int  # passages to embed
    done: int  # passages embedded so far (those read from the cache included)
    cached: int  # passages the cache already held when the build started
    started_at: float  # Unix seconds
    updated_at: float
    host: str
    pid: int
    error: str | None = None

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def passages_per_second(self) -> float | None:
        """Speed of the passages embedded by this build (not those found in the cache)."""
        elapsed = self.updated_at - self.started_at
        embedded = self.done - self.cached
        return embedded / elapsed if elapsed > 0 and embedded > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        speed = self.passages_per_second
        if self.state != "embedding" or speed is None:
            return None
        return (self.total - self.done) / speed

    def observed(self, now: float | None = None) -> BuildStatus:
        """This status as seen now: a running build whose process is gone is ``stopped``."""
        if self.state not in RUNNING:
            return self
        now = time.time() if now is None else now
        gone = (
            not _process_alive(self.pid)
            if self.host == socket.gethostname()
            else now - self.updated_at > STALE_AFTER_S
        )
        return replace(self, state="stopped", error="the build's process ended") if gone else self


def status_path(dataset_dir: Path, version: str) -> Path:
    return dataset_dir / BUILDS / f"{version}.json"


def read_statuses(dataset_dir: Path) -> list[BuildStatus]:
    """Every build recorded for a data set, newest first (unreadable files skipped: a
    status is a report, never a reason to fail)."""
    statuses = []
    for path in (dataset_dir / BUILDS).glob("*.json"):
        try:
            statuses.append(BuildStatus(**json.loads(path.read_text())).observed())
        except (OSError, ValueError, TypeError):
            continue
    return sorted(statuses, key=lambda s: -s.started_at)


class BuildReporter:
    """Writes one build's status as it goes. Used as a context manager: leaving the block
    normally marks the build done, an interrupt stopped, any other error failed."""

    def __init__(self, dataset_dir: Path, dataset: str, version: str, max_chunks: int) -> None:
        self.path = status_path(dataset_dir, version)
        now = time.time()
        self.status = BuildStatus(
            dataset=dataset,
            version=version,
            max_chunks_per_case=max_chunks,
            state="embedding",
            total=0,
            done=0,
            cached=0,
            started_at=now,
            updated_at=now,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        self._written_at = 0.0
        self._reported_cached = False

    def __enter__(self) -> BuildReporter:
        self._update(force=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self._update(state="done", force=True)
        elif isinstance(error, KeyboardInterrupt | SystemExit):
            self._update(state="stopped", error=f"interrupted ({type(error).__name__})", force=True)
        else:
            self._update(state="failed", error=f"{type(error).__name__}: {error}", force=True)

    def start(self, total: int) -> None:
        self._update(total=total, force=True)

    def advance(self, passages: int) -> None:
        # The embedder reports the passages found in the cache first, in one call.
        if not self._reported_cached:
            self._reported_cached = True
            self._update(done=passages, cached=passages, force=True)
            return
        self._update(done=self.status.done + passages)

    def relay(self, progress: Callable[[int], None] | None) -> Callable[[int], None]:
        """A progress callback that records the build's progress and passes it on."""

        def advance(passages: int) -> None:
            self.advance(passages)
            if progress is not None:
                progress(passages)

        return advance

    def indexing(self) -> None:
        self._update(state="indexing", done=self.status.total, force=True)

    def _update(self, force: bool = False, **changes: object) -> None:
        now = time.time()
        self.status = replace(self.status, updated_at=now, **changes)  # type: ignore[arg-type]
        if not force and now - self._written_at < WRITE_EVERY_S:
            return
        self._written_at = now
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}")
            scratch.write_text(json.dumps(asdict(self.status)))
            os.replace(scratch, self.path)
        except OSError:
            pass  # a report that cannot be written must not stop the build


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True
