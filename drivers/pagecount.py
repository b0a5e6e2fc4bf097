"""Count the pages of one copy of a print document, as a printer's interpreter would.

Shared by the simulated printer, which prints what it counts, and the agent, which prices a
job held in CUPS from its document. Pure document decoding, no business rules. A document
is read from a stream in chunks, so a large one need not sit in memory: only PDF needs random
access (its cross-reference table is at the end), and pypdf reads the stream as it needs.

pypdf is imported on the first PDF, not with this module: it costs the process about 8.6 MB
of resident memory (measured), which an agent on a device hold queue never needs.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Iterable
from typing import IO

log = logging.getLogger("pagetally.pagecount")

CHUNK = 1 << 16
PDF_MAGIC = b"%PDF"
PS_MAGIC = b"%!"
PWG_SYNC = b"RaS2"
PWG_PAGE = b"PwgRaster"
"""Every page of a PWG raster stream starts with a header naming the format."""
_PS_PAGES = re.compile(rb"^%%Pages:[ \t]*(\d{1,9})(?!\d)", re.MULTILINE)
"""The DSC page count. `(atend)` defers it to the trailer, where the first number is found.
Nine digits at most: a longer number is no page count, and int() refuses 4,300 digits."""
_PS_CARRY = 64
"""A %%Pages line is far shorter; a longer unfinished line cannot be one."""


def count_pages(data: bytes, document_format: str, lines_per_page: int) -> int | None:
    """Pages in one copy of the document, or None when the format gives no answer."""
    return count_pages_in(io.BytesIO(data), document_format, lines_per_page)


def count_pages_in(stream: IO[bytes], document_format: str, lines_per_page: int, *,
                   chunk: int = CHUNK) -> int | None:
    """Pages in one copy of the document in `stream` (read from its start), or None when the
    format gives no answer: unknown, or a PDF or PostScript file that does not say."""
    if lines_per_page < 1 or chunk < len(PWG_PAGE):
        raise ValueError("lines_per_page must be at least 1, chunk at least 9 bytes")
    fmt = document_format.lower()
    stream.seek(0)
    head = stream.read(len(PWG_PAGE))
    stream.seek(0)
    if head.startswith(PDF_MAGIC) or fmt == "application/pdf":
        return _pdf_pages(stream)
    blocks = _Blocks(stream, chunk)
    if fmt.startswith("text/"):
        return _text_pages(blocks, lines_per_page)
    if head.startswith(PS_MAGIC) or fmt == "application/postscript":
        return _ps_pages(blocks)
    if head.startswith(PWG_SYNC) or fmt == "image/pwg-raster":
        return max(1, _occurrences(blocks, PWG_PAGE))
    if fmt.startswith("image/"):
        return 1
    return None


class _Blocks:
    """The stream's bytes in chunks, read lazily."""

    def __init__(self, stream: IO[bytes], chunk: int) -> None:
        self.stream, self.chunk = stream, chunk

    def __iter__(self) -> _Blocks:
        return self

    def __next__(self) -> bytes:
        block = self.stream.read(self.chunk)
        if not block:
            raise StopIteration
        return block


def _pdf_pages(stream: IO[bytes]) -> int | None:
    from pypdf import PdfReader  # 8.6 MB of memory: imported only when a PDF is met

    try:
        return len(PdfReader(stream).pages)
    except Exception as exc:  # noqa: BLE001 - pypdf on hostile bytes raises almost anything
        log.warning("could not read the PDF (%s: %s)", type(exc).__name__, exc)
        return None


def _text_pages(blocks: Iterable[bytes], lines_per_page: int) -> int:
    """Lines over lines_per_page, each form feed starting a page; an empty text is 0 pages."""
    pages, newlines, last, seen = 0, 0, None, False
    for block in blocks:
        seen = True
        parts = block.split(b"\f")
        for i, part in enumerate(parts):
            if part:
                newlines += part.count(b"\n")
                last = part[-1]
            if i < len(parts) - 1:  # a form feed ends this page run
                pages += _run_pages(newlines, last, lines_per_page)
                newlines, last = 0, None
    if not seen:
        return 0
    return pages + _run_pages(newlines, last, lines_per_page)


def _run_pages(newlines: int, last: int | None, lines_per_page: int) -> int:
    """Pages of the text between two form feeds: at least one, even if it is empty."""
    lines = newlines + (0 if last is None or last == ord("\n") else 1)
    return max(1, math.ceil(lines / lines_per_page))


def _ps_pages(blocks: Iterable[bytes]) -> int | None:
    """The first %%Pages: N at the start of a line. A match touching the end of what has been
    read may have more digits to come, so it waits for the next block."""
    carry = b""
    for block in blocks:
        buffer = carry + block
        for found in _PS_PAGES.finditer(buffer):
            if found.end() < len(buffer):
                return int(found.group(1))
        line_start = buffer.rfind(b"\n") + 1
        tail = buffer[line_start:]
        # Position 0 of the next buffer must be a real line start, or a mid-line
        # "%%Pages:" would match; "x" is a line start that cannot begin a match.
        carry = tail if len(tail) <= _PS_CARRY else b"x"
    match = _PS_PAGES.search(carry)
    return int(match.group(1)) if match else None


def _occurrences(blocks: Iterable[bytes], needle: bytes) -> int:
    """Occurrences across block boundaries: each buffer keeps the tail that could still begin
    one, but never the inside of one already counted."""
    found, carry = 0, b""
    for block in blocks:
        buffer = carry + block
        found += buffer.count(needle)
        last = buffer.rfind(needle)
        keep_from = len(buffer) - (len(needle) - 1)
        carry = buffer[max(keep_from, last + len(needle) if last >= 0 else 0, 0):]
    return found
