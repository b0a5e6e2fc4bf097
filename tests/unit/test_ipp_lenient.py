"""What real printers send that the RFC does not allow: one bad value costs one attribute,
text that is not UTF-8 is read as Latin-1, and the models keep every reason once."""

from __future__ import annotations

import logging
import struct
from datetime import UTC, datetime

import pytest

from drivers.ipp import build as b
from drivers.ipp.codec import IppDecodeError, IppGroup, IppMessage, Tagged, decode, encode
from drivers.ipp.models import job_from_group, printer_from_group
from drivers.ipp.tags import GroupTag, PrinterState, ValueTag

HEADER = b"\x02\x00\x00\x00\x00\x00\x00\x01"


def attr(tag: int, name: str, value: bytes) -> bytes:
    raw = name.encode("latin-1")
    return bytes([tag]) + struct.pack(">H", len(raw)) + raw + struct.pack(">H", len(value)) \
        + value


def printer_answer(*attrs: bytes) -> bytes:
    return HEADER + b"\x01" + attr(0x47, "attributes-charset", b"utf-8") + b"\x04" \
        + attr(0x23, "printer-state", b"\0\0\0\3") + b"".join(attrs) + b"\x03"


def test_latin1_text_is_read_and_noted_by_name() -> None:
    raw = printer_answer(attr(0x41, "printer-location", "Büro 2".encode("latin-1")))
    msg = decode(raw)
    assert msg.groups[1].value("printer-location") == "Büro 2"
    [note] = msg.notes
    assert note.attribute == "printer-location" and "Latin-1" in note.reason
    assert note.offset == raw.index(b"B\xfcro")
    assert msg.problems == []


def test_bad_value_loses_only_its_attribute_with_name_and_offset() -> None:
    bad = attr(0x21, "printer-up-time", b"\0\0\7")  # an integer of 3 bytes
    raw = printer_answer(bad, attr(0x41, "printer-make-and-model", b"Acme 1"))
    msg = decode(raw)
    [problem] = msg.problems
    assert problem.attribute == "printer-up-time"
    assert problem.offset == raw.index(b"printer-up-time") + len("printer-up-time")
    assert "bad length 3 for an integer" in str(problem)
    info = printer_from_group(msg.groups[1])
    assert (info.state, info.make_model, info.up_time) == (PrinterState.IDLE, "Acme 1", None)
    with pytest.raises(IppDecodeError, match=r"'printer-up-time' at byte \d+: bad length 3"):
        decode(raw, strict=True)


def test_bad_additional_value_drops_the_whole_attribute() -> None:
    raw = printer_answer(attr(0x21, "marker-levels", b"\0\0\0\5"),
                         attr(0x21, "", b"\0\5"), attr(0x21, "", b"\0\0\0\6"),
                         attr(0x44, "printer-name", b"p"))
    msg = decode(raw)
    assert "marker-levels" not in msg.groups[1]
    assert msg.groups[1].value("printer-name") == "p"
    assert [p.attribute for p in msg.problems] == ["marker-levels"]


def test_broken_framing_skips_to_the_next_attribute() -> None:
    """A value length that runs past the end: the reader finds the next attribute."""
    raw = printer_answer(b"\x34" + struct.pack(">H", 9) + b"media-col" + b"\x02\x21",
                         attr(0x44, "printer-name", b"p"))
    msg = decode(raw)
    assert msg.groups[1].value("printer-name") == "p"
    assert [(p.attribute, p.offset) for p in msg.problems] == [
        ("media-col", raw.index(b"media-col") + 9)]


def test_unrecoverable_framing_still_raises() -> None:
    with pytest.raises(IppDecodeError, match="no attribute follows"):
        decode(HEADER + b"\x01" + b"\x41\x00\x01a\x40\x00xyz")
    with pytest.raises(IppDecodeError, match="truncated"):
        decode(HEADER + b"\x01" + attr(0x41, "a", b"x"))


def test_many_group_tags_do_not_exhaust_the_stack() -> None:
    raw = HEADER + b"\x01" + b"\x00" + b"\x01" * 5000 + b"\x21"
    with pytest.raises(IppDecodeError):
        decode(raw)


def test_keyword_mixed_with_name_keeps_every_value_once() -> None:
    reasons = IppGroup(GroupTag.PRINTER).add(b.enum("printer-state", 4))
    state_reasons = b.keyword("printer-state-reasons", "media-jam-error", "toner-low-report")
    state_reasons.add(ValueTag.NAME, "site-defined-reason")
    state_reasons.add(ValueTag.KEYWORD, "media-jam-error")
    reasons.add(state_reasons)
    msg = decode(encode(IppMessage((2, 0), 0, 1, [reasons])))
    values = msg.groups[0].get("printer-state-reasons")
    assert values is not None and Tagged(ValueTag.NAME, "site-defined-reason") in values.values
    info = printer_from_group(msg.groups[0])
    assert info.state_reasons == ("media-jam-error", "toner-low-report", "site-defined-reason")


def test_a_clock_never_set_is_not_a_time() -> None:
    group = IppGroup(GroupTag.PRINTER).add(
        b.enum("printer-state", 3),
        b.date_time("printer-current-time", datetime(1970, 1, 1, 0, 5, tzinfo=UTC)))
    info = printer_from_group(group)
    assert info.clock_set is False and info.current_time is None
    job = job_from_group(IppGroup(GroupTag.JOB).add(
        b.integer("job-id", 7), b.enum("job-state", 9),
        b.date_time("date-time-at-completed", datetime(1970, 1, 1, 0, 4, tzinfo=UTC)),
        b.integer("time-at-completed", 240), b.integer("time-at-processing", 0)))
    assert job.completed_at is None and job.completed_uptime == 240
    assert job.processing_uptime is None  # 0: "not yet", as many printers say it


def test_client_logs_each_faulty_attribute_once(caplog: pytest.LogCaptureFixture) -> None:
    from drivers.ipp.client import IppClient
    from drivers.ipp.tags import Operation

    client = IppClient("ipp://127.0.0.1:9/ipp/print")
    msg = decode(printer_answer(attr(0x41, "printer-location", b"B\xfcro")))
    with caplog.at_level(logging.WARNING, logger="pagetally.ipp"):
        client._note_faults(Operation.GET_PRINTER_ATTRIBUTES, msg)
        client._note_faults(Operation.GET_PRINTER_ATTRIBUTES, msg)
    [record] = caplog.records
    assert "printer-location" in record.getMessage() and "Latin-1" in record.getMessage()
