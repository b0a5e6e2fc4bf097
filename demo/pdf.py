"""Sample documents for the demo: real multi-page PDFs, so the printer counts pages itself."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

A4 = (595, 842)  # points


def _escape(text: str) -> bytes:
    """Text for a PDF string literal (Latin-1 only: the standard Helvetica font)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return safe.encode("latin-1", errors="replace")


def _helvetica() -> DictionaryObject:
    return DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })


def sample_pdf(title: str, pages: int, author: str) -> bytes:
    """A PDF of `pages` A4 pages, each saying what it is, as a workstation would send it."""
    writer = PdfWriter()
    for number in range(1, pages + 1):
        page = writer.add_blank_page(*A4)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): _helvetica()}),
        })
        text = (b"BT /F1 28 Tf 72 740 Td (" + _escape(title) + b") Tj ET\n"
                b"BT /F1 14 Tf 72 700 Td (" + _escape(f"by {author}") + b") Tj ET\n"
                b"BT /F1 14 Tf 72 80 Td ("
                + _escape(f"Page {number} of {pages} - PageTally demo") + b") Tj ET\n")
        stream = ContentStream(None, writer)
        stream.set_data(text)
        page.replace_contents(stream)
    writer.add_metadata({"/Title": title, "/Author": author})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
