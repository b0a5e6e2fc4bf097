"""Count the pages of a submitted document, as a printer's interpreter would."""

from __future__ import annotations

import io
import logging
import math
import re

from pypdf import PdfReader
from pypdf.errors import PyPdfError

log = logging.getLogger("pagetally.sim.pages")

_PS_PAGES = re.compile(rb"^%%Pages:\s*(\d+)", re.MULTILINE)
_PWG_SYNC = b"RaS2"


def count_pages(data: bytes, document_format: str, lines_per_page: int) -> int | None:
    """Pages in one copy of the document, or None when the format gives no answer."""
    fmt = document_format.lower()
    if data.startswith(b"%PDF") or fmt == "application/pdf":
        return _pdf_pages(data)
    if fmt.startswith("text/"):
        return _text_pages(data, lines_per_page)
    if data.startswith(b"%!") or fmt == "application/postscript":
        match = _PS_PAGES.search(data)
        return int(match.group(1)) if match else None
    if data.startswith(_PWG_SYNC) or fmt == "image/pwg-raster":
        return max(1, data.count(b"PwgRaster"))
    if fmt.startswith("image/"):
        return 1
    return None


def _pdf_pages(data: bytes) -> int | None:
    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        log.warning("could not read the PDF (%s); falling back to the client's page count", exc)
        return None


def _text_pages(data: bytes, lines_per_page: int) -> int:
    if not data:
        return 0
    pages = 0
    for chunk in data.split(b"\f"):
        lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") or not chunk else 1)
        pages += max(1, math.ceil(lines / lines_per_page))
    return pages
