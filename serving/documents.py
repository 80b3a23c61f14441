"""Text out of an uploaded file: plain text, PDF (pypdf) or Word (python-docx)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from casecast.serving.errors import InvalidInputError, UnsupportedMediaError

DocumentKind = Literal["txt", "pdf", "docx"]
PLAIN_ENCODINGS = ("utf-8", "utf-16", "cp1251")  # cp1251: Russian files from older systems


@dataclass(frozen=True)
class ExtractedText:
    text: str
    pages: int
    kind: DocumentKind


def extract_text(filename: str, content_type: str | None, data: bytes) -> ExtractedText:
    kind = _kind(filename, content_type, data)
    if kind == "pdf":
        return _pdf(data)
    if kind == "docx":
        return _docx(data)
    return ExtractedText(_plain(data), 1, "txt")


def _kind(filename: str, content_type: str | None, data: bytes) -> DocumentKind:
    name = filename.lower()
    if data.startswith(b"%PDF") or name.endswith(".pdf"):
        return "pdf"
    if name.endswith(".docx") or (data.startswith(b"PK") and "word" in (content_type or "")):
        return "docx"
    if name.endswith((".txt", ".text", ".md")) or (content_type or "").startswith("text/"):
        return "txt"
    raise UnsupportedMediaError(f"{filename or 'the file'}: send a .txt, .pdf or .docx file")


def _plain(data: bytes) -> str:
    for encoding in PLAIN_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError("the text file is in an encoding this server cannot read")


def _pdf(data: bytes) -> ExtractedText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as error:
        raise InvalidInputError(f"the PDF cannot be read: {error}") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InvalidInputError(
            "the PDF has no text layer (a scanned document?): paste its text instead"
        )
    return ExtractedText(text, len(pages), "pdf")


def _docx(data: bytes) -> ExtractedText:
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InvalidInputError(f"the Word file cannot be read: {error}") from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    if not paragraphs:
        raise InvalidInputError("the Word file has no text")
    return ExtractedText("\n\n".join(paragraphs), 1, "docx")
