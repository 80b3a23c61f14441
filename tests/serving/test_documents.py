"""Text out of uploaded case files: Word, PDF and plain text in the encodings courts use, and
every crafted file (tests/serving/hostile_files.py) refused with a 4xx that names its
ceiling, within the time limit, in a worker process that leaves the server as it was."""

import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casecast.serving.app import create_app
from casecast.serving.documents import DocumentReader, document_kind
from casecast.serving.errors import (
    BadDocumentError,
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaError,
)
from tests.serving import hostile_files as hostile
from tests.serving.conftest import serving_settings

TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    home = tmp_path_factory.mktemp("documents-home")
    return serving_settings(home, public_demo=True, document_timeout_s=TIMEOUT_S)


@pytest.fixture(scope="module")
def reader(settings) -> DocumentReader:
    return DocumentReader(settings)


def test_a_word_file_gives_its_paragraphs(reader, train_slice):
    import docx

    record = train_slice.records[3]
    document = docx.Document()
    for paragraph in record.paragraphs[:4]:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    extracted = reader.read("case.docx", None, buffer.getvalue())
    assert extracted.kind == "docx"
    assert extracted.text.split("\n\n") == [p.strip() for p in record.paragraphs[:4]]


def test_a_pdf_with_text_is_read_and_a_scan_is_refused_with_a_reason(reader):
    from matplotlib.figure import Figure

    figure = Figure()
    figure.text(0.1, 0.5, "The applicant was detained on remand.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    extracted = reader.read("judgment.pdf", "application/pdf", buffer.getvalue())
    assert extracted.kind == "pdf" and "detained on remand" in extracted.text
    with pytest.raises(InvalidInputError, match="no text layer"):
        reader.read("scan.pdf", "application/pdf", hostile.pages_pdf(1))


def test_plain_text_in_utf8_utf16_or_windows_1251_and_other_types_refused(reader):
    russian = "Суд установил: подсудимый задержан."
    for encoded in (russian.encode("utf-8"), russian.encode("utf-16"), russian.encode("cp1251")):
        assert reader.read("a.txt", "text/plain", encoded).text == russian
    with pytest.raises(UnsupportedMediaError, match=r"\.txt, \.pdf or \.docx"):
        reader.read("photo.jpg", "image/jpeg", b"\xff\xd8\xff")


def test_a_file_whose_name_and_content_disagree_is_refused():
    pdf = hostile.pages_pdf(1)
    word = hostile.paragraphs_docx(["The applicant was detained."])
    with pytest.raises(UnsupportedMediaError, match=r"named \.pdf but holds a ZIP"):
        document_kind("judgment.pdf", "application/pdf", word)
    with pytest.raises(UnsupportedMediaError, match=r"named \.docx but holds a PDF"):
        document_kind("case.docx", None, pdf)
    with pytest.raises(UnsupportedMediaError, match=r"named \.txt but holds a PDF"):
        document_kind("notes.txt", "text/plain", pdf)
    with pytest.raises(UnsupportedMediaError, match="does not start as a PDF"):
        document_kind("judgment.pdf", "application/pdf", b"just words")
    assert document_kind("upload", "text/plain", b"words") == "txt"
    assert document_kind("upload", None, pdf) == "pdf"


def test_a_document_past_the_character_ceiling_is_refused_not_returned(
    reader, settings, train_slice
):
    limit = settings.max_text_chars
    paragraphs = [p for r in train_slice.records for p in r.paragraphs]  # real judgments
    assert sum(map(len, paragraphs)) > limit
    with pytest.raises(PayloadTooLargeError, match=f"more than {limit:,} characters"):
        reader.read("long.docx", None, hostile.paragraphs_docx(paragraphs))
    with pytest.raises(PayloadTooLargeError, match=f"more than {limit:,} characters"):
        reader.read("long.txt", "text/plain", ("word " * limit).encode())


# Each crafted file, the error it must get, and what its message must say.
HOSTILE = [
    ("node.docx", lambda: hostile.one_text_node_docx(800), PayloadTooLargeError, "MB"),
    ("paragraphs.docx", lambda: hostile.many_paragraphs_docx(300), PayloadTooLargeError, "MB"),
    # pypdf inflates the stream within the worker's memory and finds no text in it.
    ("bomb.pdf", lambda: hostile.flate_bomb_pdf(200), InvalidInputError, "no text layer"),
    ("xxe.docx", lambda: hostile.XXE, BadDocumentError, "document type"),
    ("laughs.docx", lambda: hostile.LAUGHS, BadDocumentError, "document type"),
    ("overlap.docx", hostile.overlapping_zip, BadDocumentError, "overlap"),
    ("false-size.docx", lambda: hostile.false_size_docx(20), BadDocumentError, "damaged"),
    ("nested.docx", hostile.nested_archive, BadDocumentError, "not a Word document"),
    ("encrypted.pdf", hostile.encrypted_pdf, BadDocumentError, "encrypted"),
    ("pages.pdf", lambda: hostile.pages_pdf(10_000), PayloadTooLargeError, "10,000 pages"),
    ("loop.pdf", hostile.looping_pdf, (BadDocumentError, InvalidInputError), "PDF"),
    ("objects.pdf", hostile.reference_loop_pdf, (BadDocumentError, InvalidInputError), "PDF"),
    ("binary.txt", lambda: bytes(range(1, 256)) * 8, BadDocumentError, "not UTF-8"),
    ("surrogate.txt", lambda: b"\xff\xfe\x00\xd8a\x00", BadDocumentError, "not valid UTF-16"),
]


@pytest.mark.parametrize(("name", "make", "error", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_crafted_file_gets_its_4xx_within_the_time_limit(reader, name, make, error, says):
    data = make()
    started = time.perf_counter()
    with pytest.raises(error, match=says) as raised:
        reader.read(name, None, data)
    assert time.perf_counter() - started < TIMEOUT_S + 3
    assert 400 <= raised.value.status_code < 500


def _rss_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    import resource

    return pages * resource.getpagesize()


def test_the_api_answers_every_crafted_file_with_a_4xx_and_keeps_its_memory(settings):
    with TestClient(create_app(settings)) as client:
        ok = client.post(
            "/v1/documents/text", files={"file": ("a.txt", "Суд установил.".encode(), "text/plain")}
        )
        assert ok.status_code == 200 and ok.json()["kind"] == "txt"
        baseline = _rss_bytes()
        for name, make, _, says in HOSTILE:
            answer = client.post("/v1/documents/text", files={"file": (name, make(), None)})
            assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text)
            assert says in answer.json()["error"]["message"], (name, answer.text)
            assert _rss_bytes() - baseline < 100_000_000, name
        assert client.get("/health").status_code == 200  # and the server goes on


def test_a_worker_past_its_memory_or_time_is_ended_and_answered(tmp_path):
    """What the ceilings inside the reader miss, the worker's own limits catch: a stream that
    needs more memory than a document may take, or a read that outlasts the timeout."""
    import random

    rng = random.Random(0)
    words = [f"w{rng.randrange(100_000)}" for _ in range(2000)]
    text = [" ".join(rng.choices(words, k=60)) for _ in range(100_000)]  # 40 MB, 3x compressed
    starved = DocumentReader(
        serving_settings(tmp_path, document_memory_bytes=100_000_000, max_text_chars=10**8)
    )
    with pytest.raises(PayloadTooLargeError, match=r"needs more memory .* \(100 MB\)"):
        starved.read("long.docx", None, hostile.paragraphs_docx(text))
    hurried = DocumentReader(serving_settings(tmp_path, document_timeout_s=0.05))
    started = time.perf_counter()
    with pytest.raises(InvalidInputError, match=r"took longer than 0.05 s"):
        hurried.read("pages.pdf", None, hostile.pages_pdf(1500))
    assert time.perf_counter() - started < 3
