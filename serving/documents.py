"""Text out of an uploaded case file, read where a crafted file cannot harm the server.

The file's kind is told here from its name and its first bytes (a mismatch is refused);
the reading itself (``extraction.py``) runs in a fresh worker process (not a fork of the
server), with an address-space and a CPU-time limit and a wall-clock timeout, at most
``max_concurrent_documents`` at once. A crash, a hang or a runaway allocation ends that
process alone and is answered with a 4xx; nothing of the file stays in the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

from casecast.serving.errors import (
    BadDocumentError,
    InvalidInputError,
    PayloadTooLargeError,
    ServiceError,
    UnavailableError,
    UnsupportedMediaError,
)
from casecast.serving.extraction import DocumentKind, Limits, worker_request
from casecast.serving.settings import ServingSettings

_EXTENSIONS: dict[str, DocumentKind] = {
    ".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".text": "txt", ".md": "txt",
}  # fmt: skip
_BY_STATUS: dict[int, type[ServiceError]] = {
    400: BadDocumentError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaError,
    422: InvalidInputError,
}
WAIT_FOR_SLOT_S = 10.0  # an upload waits this long for a free worker, then 503


@dataclass(frozen=True)
class ExtractedText:
    text: str
    pages: int
    kind: DocumentKind


def document_kind(filename: str, content_type: str | None, data: bytes) -> DocumentKind:
    """What the file is, by its first bytes and its name; one that says it is what its bytes
    are not is refused (415), as is anything but text, PDF and DOCX."""
    name = filename.lower()
    extension = next((e for e in _EXTENSIONS if name.endswith(e)), None)
    looks: DocumentKind | None = None
    if b"%PDF-" in data[:1024]:
        looks = "pdf"
    elif data.startswith(b"PK\x03\x04"):
        looks = "docx"
    claimed = _EXTENSIONS[extension] if extension else None
    if claimed is not None and looks is not None and claimed != looks:
        raise UnsupportedMediaError(
            f"{filename} is named {extension} but holds a {'PDF' if looks == 'pdf' else 'ZIP'}"
            " file: send it under its own extension"
        )
    if claimed in ("pdf", "docx") and looks is None:
        raise UnsupportedMediaError(
            f"{filename} is named {extension} but does not start as a {claimed.upper()} "
            "file does: send the file itself"
        )
    kind = claimed or looks
    if kind is None and (content_type or "").startswith("text/"):
        kind = "txt"
    if kind is None:
        raise UnsupportedMediaError(f"{filename or 'the file'}: send a .txt, .pdf or .docx file")
    return kind


class DocumentReader:
    """Reads uploads in worker processes, bounded in number, memory, CPU and time."""

    def __init__(self, settings: ServingSettings) -> None:
        self.limits = Limits(
            max_chars=settings.max_text_chars,
            max_member_bytes=settings.max_document_member_bytes,
            max_ratio=settings.max_document_compression_ratio,
            max_pages=settings.max_document_pages,
        )
        self.timeout_s = settings.document_timeout_s
        self.memory_bytes = settings.document_memory_bytes
        self._slots = threading.BoundedSemaphore(settings.max_concurrent_documents)

    def read(self, filename: str, content_type: str | None, data: bytes) -> ExtractedText:
        """The file's text; a ``ServiceError`` (4xx, or 503 when every worker is busy)."""
        kind = document_kind(filename, content_type, data)
        if not self._slots.acquire(timeout=WAIT_FOR_SLOT_S):
            raise UnavailableError(
                "every document reader is busy: send the file again in a few seconds"
            )
        try:
            answer = self._in_worker(kind, data)
        finally:
            self._slots.release()
        if "text" in answer:
            return ExtractedText(answer["text"], int(answer["pages"]), kind)
        raise _BY_STATUS.get(int(answer["status"]), BadDocumentError)(str(answer["message"]))

    def _in_worker(self, kind: DocumentKind, data: bytes) -> dict[str, Any]:
        """Run one extraction in a fresh interpreter: killed at the timeout, its memory and
        CPU capped by the worker itself before it reads a byte."""
        cpu = int(self.timeout_s) + 1
        request = worker_request(kind, self.limits, self.memory_bytes, cpu)
        worker = subprocess.Popen(
            [sys.executable, "-m", "casecast.serving.extraction", request],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            out, _ = worker.communicate(data, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
            took = f"reading the {kind.upper()} file took longer than {self.timeout_s:g} s"
            return {"status": 422, "message": f"{took}, the server's limit: paste its text instead"}
        try:
            return dict(json.loads(out))
        except ValueError:  # it died before answering: a limit ended it, or it crashed
            return {"status": 413, "message": f"the {kind.upper()} file needs more than the "
                    f"{self.memory_bytes / 1e6:,.0f} MB or {self.timeout_s:g} s a document may "
                    "take to read: split it, or paste its text"}  # fmt: skip
