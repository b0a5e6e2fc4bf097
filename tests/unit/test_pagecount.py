"""Page counting from the document, shared by the simulated printer and the agent's estimate.

The counter reads a stream in chunks; the property tests hold it to the same answers as a
whole-bytes reading (the simulator's original counter, kept here as the oracle) for any
chunk size, and to "a page count or no answer" for any bytes at all.
"""

from __future__ import annotations

import io
import math
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drivers.pagecount import count_pages, count_pages_in
from tests.data.ipp_samples import pdf, postscript

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = ("application/pdf", "application/postscript", "text/plain", "image/pwg-raster",
           "image/jpeg", "application/octet-stream", "application/vnd.cups-raw", "")


def test_pdf_pages_are_counted() -> None:
    assert count_pages(pdf(7), "application/pdf", 60) == 7


def test_pdf_detected_by_magic_even_as_octet_stream() -> None:
    assert count_pages(pdf(3), "application/octet-stream", 60) == 3


def test_broken_pdf_gives_no_answer() -> None:
    assert count_pages(b"%PDF-1.7 this is not really a pdf", "application/pdf", 60) is None


def test_truncated_pdf_gives_no_answer() -> None:
    assert count_pages(pdf(4)[:200], "application/pdf", 60) is None


def test_text_pages_by_lines_and_form_feeds() -> None:
    text = b"line\n" * 130
    assert count_pages(text, "text/plain", 60) == 3
    assert count_pages(b"a\fb\fc", "text/plain", 60) == 3
    assert count_pages(b"", "text/plain", 60) == 0


def test_postscript_pages_comment() -> None:
    assert count_pages(b"%!PS-Adobe-3.0\n%%Pages: 12\n", "application/postscript", 60) == 12
    assert count_pages(postscript(4), "application/octet-stream", 60) == 4


def test_postscript_pages_at_end() -> None:
    doc = b"%!PS-Adobe-3.0\n%%Pages: (atend)\nshowpage\n%%Trailer\n%%Pages: 2\n%%EOF\n"
    assert count_pages(doc, "application/postscript", 60) == 2


def test_postscript_count_split_across_chunks_is_read_whole() -> None:
    """'%%Pages: 12' cut after the '1' must not read as one page."""
    doc = b"%!PS-Adobe-3.0\n%%Pages: 12\n%%EndComments\n"
    cut = doc.index(b"12") + 1
    for chunk in range(9, len(doc) + 1):
        assert count_pages_in(io.BytesIO(doc), "application/postscript", 60,
                              chunk=chunk) == 12, (chunk, cut)


def test_postscript_pages_mid_line_is_not_a_count() -> None:
    doc = b"%!PS\n" + b"x" * 70 + b"%%Pages: 9\n"
    assert count_pages(doc, "application/postscript", 60) is None
    for chunk in (9, 16, 40, 75):
        assert count_pages_in(io.BytesIO(doc), "application/postscript", 60,
                              chunk=chunk) is None


def test_pwg_raster_pages_across_chunks() -> None:
    doc = b"RaS2" + b"".join(b"PwgRaster\0" + b"\xff" * 37 for _ in range(5))
    for chunk in (9, 10, 13, 64, 4096):
        assert count_pages_in(io.BytesIO(doc), "image/pwg-raster", 60, chunk=chunk) == 5


def test_unknown_format_gives_no_answer() -> None:
    assert count_pages(b"\x00\x01", "application/vnd.unknown", 60) is None


# ----- properties ------------------------------------------------------------------


def whole_bytes_oracle(data: bytes, fmt: str, lines_per_page: int) -> int | None:
    """The simulator's counter before it read streams, for every format but PDF."""
    if fmt.startswith("text/"):
        if not data:
            return 0
        pages = 0
        for run in data.split(b"\f"):
            lines = run.count(b"\n") + (0 if run.endswith(b"\n") or not run else 1)
            pages += max(1, math.ceil(lines / lines_per_page))
        return pages
    if data.startswith(b"%!") or fmt == "application/postscript":
        match = re.search(rb"^%%Pages:[ \t]*(\d{1,9})(?!\d)", data, re.MULTILINE)
        return int(match.group(1)) if match else None
    if data.startswith(b"RaS2") or fmt == "image/pwg-raster":
        return max(1, data.count(b"PwgRaster"))
    if fmt.startswith("image/"):
        return 1
    return None


_pieces = st.sampled_from([b"\n", b"\f", b"x", b"%%Pages: ", b"%%Pages:\t7", b"12", b"%!",
                           b"PwgRaster", b"Pwg", b"Raster", b"RaS2", b" "])
_documents = st.one_of(st.binary(max_size=600),
                       st.lists(_pieces, max_size=80).map(b"".join))


@FUZZ
@given(data=_documents, fmt=st.sampled_from([f for f in FORMATS if f != "application/pdf"]),
       lines=st.integers(1, 70), chunk=st.integers(9, 200))
@example(data=b"%%Pages: 12\n", fmt="application/postscript", lines=60, chunk=10)
def test_stream_counts_as_the_whole_bytes(data: bytes, fmt: str, lines: int,
                                          chunk: int) -> None:
    if data.startswith(b"%PDF"):
        data = b" " + data
    assert count_pages_in(io.BytesIO(data), fmt, lines, chunk=chunk) == whole_bytes_oracle(
        data, fmt, lines)


_pdf_like = st.one_of(
    st.binary(max_size=2000).map(lambda b: b"%PDF-1.7\n" + b),
    st.tuples(st.integers(1, 6), st.integers(0, 4000), st.binary(min_size=1, max_size=40)).map(
        lambda t: _damaged(pdf(t[0]), t[1], t[2])),
)


def _damaged(doc: bytes, at: int, junk: bytes) -> bytes:
    at %= len(doc)
    return doc[:at] + junk + doc[at + len(junk):]


@FUZZ
@given(data=st.one_of(st.binary(max_size=2000), _pdf_like), fmt=st.sampled_from(FORMATS))
def test_any_bytes_give_a_page_count_or_no_answer(data: bytes, fmt: str) -> None:
    pages = count_pages(data, fmt, 60)
    assert pages is None or (isinstance(pages, int) and pages >= 0)
