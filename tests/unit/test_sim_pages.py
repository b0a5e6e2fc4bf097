"""Page counting from the document, as the simulated printer's interpreter does it."""

from __future__ import annotations

import io

from pypdf import PdfWriter

from simulator.pages import count_pages


def pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_pages_are_counted() -> None:
    assert count_pages(pdf(7), "application/pdf", 60) == 7


def test_pdf_detected_by_magic_even_as_octet_stream() -> None:
    assert count_pages(pdf(3), "application/octet-stream", 60) == 3


def test_broken_pdf_gives_no_answer() -> None:
    assert count_pages(b"%PDF-1.7 this is not really a pdf", "application/pdf", 60) is None


def test_text_pages_by_lines_and_form_feeds() -> None:
    text = b"line\n" * 130
    assert count_pages(text, "text/plain", 60) == 3
    assert count_pages(b"a\fb\fc", "text/plain", 60) == 3
    assert count_pages(b"", "text/plain", 60) == 0


def test_postscript_pages_comment() -> None:
    assert count_pages(b"%!PS-Adobe-3.0\n%%Pages: 12\n", "application/postscript", 60) == 12


def test_unknown_format_gives_no_answer() -> None:
    assert count_pages(b"\x00\x01", "application/vnd.unknown", 60) is None
