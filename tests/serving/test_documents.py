"""Text out of uploaded case files: Word, PDF, plain text in the encodings courts use."""

import io

import pytest

from casecast.serving.documents import extract_text
from casecast.serving.errors import InvalidInputError, UnsupportedMediaError


def test_a_word_file_gives_its_paragraphs(train_slice):
    import docx

    record = train_slice.records[3]
    document = docx.Document()
    for paragraph in record.paragraphs[:4]:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    extracted = extract_text("case.docx", None, buffer.getvalue())
    assert extracted.kind == "docx"
    assert extracted.text.split("\n\n") == [p.strip() for p in record.paragraphs[:4]]


def test_a_pdf_with_text_is_read_and_a_scan_is_refused_with_a_reason():
    from matplotlib.figure import Figure
    from pypdf import PdfWriter

    figure = Figure()
    figure.text(0.1, 0.5, "The applicant was detained on remand.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    extracted = extract_text("judgment.pdf", "application/pdf", buffer.getvalue())
    assert extracted.kind == "pdf" and "detained on remand" in extracted.text
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    scan = io.BytesIO()
    writer.write(scan)
    with pytest.raises(InvalidInputError, match="no text layer"):
        extract_text("scan.pdf", "application/pdf", scan.getvalue())


def test_plain_text_in_utf8_or_windows_1251_and_other_types_refused():
    russian = "Суд установил: подсудимый задержан."
    assert extract_text("a.txt", "text/plain", russian.encode("utf-8")).text == russian
    assert extract_text("a.txt", "text/plain", russian.encode("cp1251")).text == russian
    with pytest.raises(UnsupportedMediaError, match=r"\.txt, \.pdf or \.docx"):
        extract_text("photo.jpg", "image/jpeg", b"\xff\xd8\xff")
