"""Documents to print in IPP tests: small PDFs (pypdf) and PostScript with a %%Pages count."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfWriter

A4 = (595, 842)
LETTER = (612, 792)


def pdf(pages: int, size: tuple[int, int] = A4) -> bytes:
    """A PDF of `pages` blank pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(*size)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def postscript(pages: int) -> bytes:
    body = "".join("showpage\n" for _ in range(pages))
    return f"%!PS-Adobe-3.0\n%%Pages: {pages}\n%%EndComments\n{body}%%EOF\n".encode()


def write_ipptool_documents(folder: Path) -> Path:
    """The files ipptool's conformance tests name, written into `folder`; returns a 3-page PDF.

    ipptool reads every FILE named in a .test file, even in tests it then skips, so
    color.jpg and gray.jpg must exist; this printer does not list image/jpeg, so they are
    never sent and can be placeholders.
    """
    (folder / "document-a4.pdf").write_bytes(pdf(2, A4))
    (folder / "document-letter.pdf").write_bytes(pdf(2, LETTER))
    (folder / "document-a4.ps").write_bytes(postscript(2))
    (folder / "document-letter.ps").write_bytes(postscript(2))
    for name in ("color.jpg", "gray.jpg"):
        (folder / name).write_bytes(b"not sent: image/jpeg is not supported")
    sample = folder / "sample.pdf"
    sample.write_bytes(pdf(3, A4))
    return sample
