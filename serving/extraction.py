"""The text of a case file, read within ceilings: plain text, PDF (pypdf) or Word (the
DOCX's ``word/document.xml``, parsed incrementally with lxml).

Runs in a worker process of its own (``python -m casecast.serving.extraction``, started by
``documents.py``), never in the server's: every read is
bounded before it is made (an archive member's declared size and compression ratio, a PDF's
page count) and counted while it streams (the bytes a member really inflates to, the
characters extracted), so a crafted file stops at the first ceiling it passes. A file is
refused with ``DocumentRejected``, which names the ceiling and what to do.

Imports only the standard library here; pypdf and lxml when a file needs them.

As a worker: the request (kind, limits, memory and CPU ceilings) is its one argument, as
JSON; the file comes on standard input; the answer goes to standard output as one JSON
object, ``{"text", "pages"}`` or ``{"status", "message"}``.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

DocumentKind = Literal["txt", "pdf", "docx"]
DOCX_BODY = "word/document.xml"
READ_CHUNK = 1 << 16
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A ZIP local file header is at least this long before its name and data.
_LOCAL_HEADER = 30


@dataclass(frozen=True)
class Limits:
    """The ceilings one extraction runs under."""

    max_chars: int  # extracted characters: the same as a prediction's text
    max_member_bytes: int  # an archive member's uncompressed size
    max_ratio: float  # an archive member's uncompressed / compressed size
    max_pages: int  # a PDF's pages


class DocumentRejected(Exception):
    """A file refused, with the HTTP status that says why (400 unreadable, 413 past a size
    ceiling, 415 not what it claims to be, 422 no text) and a message for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Extracted:
    text: str
    pages: int


def extract(kind: DocumentKind, data: bytes, limits: Limits) -> Extracted:
    """The file's text, paragraphs separated by blank lines."""
    if kind == "pdf":
        return _pdf(data, limits)
    if kind == "docx":
        return _docx(data, limits)
    return Extracted(_plain(data, limits), 1)


def _too_much_text(limits: Limits) -> DocumentRejected:
    return DocumentRejected(
        413,
        f"the document holds more than {limits.max_chars:,} characters of text, the most one "
        "prediction reads: split it, or paste its facts",
    )


# -- plain text ---------------------------------------------------------------------------------


def _plain(data: bytes, limits: Limits) -> str:
    """UTF-8 (with or without its BOM), UTF-16 with its BOM, or Windows-1251 where the bytes
    read as Cyrillic or Latin text; anything else is refused rather than read as noise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode(data, "utf-16", "UTF-16")
    elif b"\x00" in data:
        raise DocumentRejected(400, "the text file holds NUL bytes: it is not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1251", errors="replace")
            if not _reads_as_text(text):
                raise DocumentRejected(
                    400,
                    "the text file is not UTF-8, UTF-16 (with its byte-order mark) or "
                    "Windows-1251 text: save it as UTF-8 and send it again",
                ) from None
    if len(text) > limits.max_chars:
        raise _too_much_text(limits)
    if not text.strip():
        raise DocumentRejected(422, "the text file is empty")
    return text


def _decode(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise DocumentRejected(
            400, f"the text file is not valid {name} (byte {error.start}): save it as UTF-8"
        ) from None


def _reads_as_text(text: str) -> bool:
    """Whether a Windows-1251 reading looks like writing: letters, digits, punctuation and
    white space, no control characters and no undefined bytes."""
    if "\ufffd" in text:
        return False
    odd = sum(1 for c in text if unicodedata.category(c)[0] == "C" and c not in "\n\r\t\f")
    return odd == 0


# -- Word ---------------------------------------------------------------------------------------


def _docx(data: bytes, limits: Limits) -> Extracted:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as error:
        raise DocumentRejected(
            400, f"the Word file is not a valid DOCX archive ({error})"
        ) from None
    with archive:
        _check_entries(archive)
        try:
            member = archive.getinfo(DOCX_BODY)
        except KeyError:
            raise DocumentRejected(
                400, f"the file is a ZIP archive but not a Word document (no {DOCX_BODY})"
            ) from None
        _check_member(member, limits)
        paragraphs = _docx_paragraphs(_member_chunks(archive, member, limits), limits)
    if not paragraphs:
        raise DocumentRejected(422, "the Word file has no text")
    return Extracted("\n\n".join(paragraphs), 1)


def _check_entries(archive: zipfile.ZipFile) -> None:
    """Entries whose data overlap (a ZIP bomb's trick: one compressed block read many
    times) or that are encrypted are refused."""
    entries = sorted(archive.infolist(), key=lambda i: i.header_offset)
    for entry, following in itertools.pairwise(entries):
        end = entry.header_offset + _LOCAL_HEADER + len(entry.orig_filename) + entry.compress_size
        if following.header_offset < end:
            raise DocumentRejected(
                400, "the Word file's archive entries overlap (a ZIP bomb): it is refused"
            )
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise DocumentRejected(400, "the Word file is encrypted: send a copy without a password")


def _check_member(member: zipfile.ZipInfo, limits: Limits) -> None:
    """What the archive declares, checked before anything is inflated."""
    if member.file_size > limits.max_member_bytes:
        raise DocumentRejected(
            413,
            f"the Word file's text part is {member.file_size / 1e6:,.0f} MB uncompressed; the "
            f"limit is {limits.max_member_bytes / 1e6:,.0f} MB: split the document",
        )
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > limits.max_ratio:
        raise DocumentRejected(
            413,
            f"the Word file's text part inflates {ratio:,.0f} times; the limit is "
            f"{limits.max_ratio:,.0f} (a compression bomb?)",
        )


def _member_chunks(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: Limits
) -> Iterator[bytes]:
    """The member's bytes as they inflate, counted against the ceilings (a member may claim
    a false size: zipfile then stops at the claim and fails its checksum)."""
    read = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(READ_CHUNK):
                read += len(chunk)
                if read > limits.max_member_bytes or read > limits.max_ratio * max(
                    member.compress_size, 1
                ):
                    ceiling = limits.max_member_bytes / 1e6
                    raise DocumentRejected(
                        413,
                        f"the Word file's text part inflates past {ceiling:,.0f} MB or its "
                        "compression limit: split the document",
                    )
                yield chunk
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as error:
        raise DocumentRejected(400, f"the Word file's archive is damaged ({error})") from None


def _docx_paragraphs(chunks: Iterator[bytes], limits: Limits) -> list[str]:
    """The non-empty paragraphs of ``word/document.xml``, parsed as it streams, with no
    document type, entity or network access."""
    from lxml import etree

    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
    )
    paragraphs: list[str] = []
    current: list[str] = []
    chars = 0
    first = True
    try:
        for chunk in chunks:
            if first:
                first = False
                if b"<!DOCTYPE" in chunk[:4096].upper():
                    raise DocumentRejected(
                        400, "the Word file declares a document type (entities): refused"
                    )
            parser.feed(chunk)
            for event, element in parser.read_events():
                if event == "start":
                    continue
                tag = element.tag
                if tag == f"{_W}t" and element.text:
                    current.append(element.text)
                    chars += len(element.text)
                elif tag == f"{_W}tab":
                    current.append("\t")
                elif tag in (f"{_W}br", f"{_W}cr"):
                    current.append("\n")
                elif tag == f"{_W}p":
                    paragraph = "".join(current).strip()
                    if paragraph:
                        paragraphs.append(paragraph)
                        chars += 2
                    current = []
                    element.clear()  # what is read is let go: memory stays bounded
                if chars > limits.max_chars:
                    raise _too_much_text(limits)
        parser.close()
    except etree.XMLSyntaxError as error:
        if "too long" in str(error).lower() or "huge" in str(error).lower():
            raise DocumentRejected(
                413, "the Word file holds a run of text longer than a document has: refused"
            ) from None
        raise DocumentRejected(400, f"the Word file's XML is broken ({error})") from None
    return paragraphs


# -- PDF ----------------------------------------------------------------------------------------


def _pdf(data: bytes, limits: Limits) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise DocumentRejected(400, "the PDF is encrypted: send a copy without a password")
        pages = len(reader.pages)
        if pages > limits.max_pages:
            raise DocumentRejected(
                413,
                f"the PDF has {pages:,} pages; the limit is {limits.max_pages:,}: send the "
                "pages that state the facts",
            )
        texts, chars = [], 0
        for page in reader.pages:
            text = (page.extract_text() or "").strip()
            chars += len(text) + 2
            if chars > limits.max_chars:
                raise _too_much_text(limits)
            if text:
                texts.append(text)
    except LimitReachedError:
        raise DocumentRejected(
            413, "the PDF holds a stream that inflates past the reader's limit: refused"
        ) from None
    except FileNotDecryptedError:
        raise DocumentRejected(
            400, "the PDF is encrypted: send a copy without a password"
        ) from None
    except RecursionError:
        raise DocumentRejected(400, "the PDF's objects refer to themselves in a loop") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise DocumentRejected(400, f"the PDF cannot be read ({type(error).__name__})") from None
    if not texts:
        raise DocumentRejected(
            422, "the PDF has no text layer (a scanned document?): paste its text instead"
        )
    return Extracted("\n\n".join(texts), pages)


def _opens_without_password(reader: object) -> bool:
    """Some PDFs are encrypted with an empty user password and open as they are."""
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:
        return False


# -- the worker ---------------------------------------------------------------------------------


def worker_request(kind: DocumentKind, limits: Limits, memory_bytes: int, cpu_seconds: int) -> str:
    """The worker's argument for one file."""
    return json.dumps(
        {"kind": kind, "limits": asdict(limits), "memory": memory_bytes, "cpu": cpu_seconds}
    )


def main() -> None:
    """Limit this process (address space, CPU time, the lowest CPU priority: answers to
    predictions come first on the same cores), read the file from standard input, answer
    on standard output."""
    import os
    import resource

    os.nice(19)
    request = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"]))
    kind, limits = request["kind"], Limits(**request["limits"])
    data = sys.stdin.buffer.read()
    answer: dict[str, Any]
    try:
        extracted = extract(kind, data, limits)
        answer = {"text": extracted.text, "pages": extracted.pages}
    except DocumentRejected as rejected:
        answer = {"status": rejected.status, "message": rejected.message}
    except MemoryError:
        answer = {"status": 413, "message": f"the {kind.upper()} file needs more memory to "
                  f"read than a document may take ({request['memory'] / 1e6:,.0f} MB)"}  # fmt: skip
    except Exception as error:  # any library's failure on a malformed file
        answer = {"status": 400, "message": f"the {kind.upper()} file cannot be read "
                  f"({type(error).__name__})"}  # fmt: skip
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
