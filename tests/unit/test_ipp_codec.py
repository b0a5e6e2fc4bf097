"""The IPP codec: exact wire bytes, round-trips of every syntax, and plain-words decode errors."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pyipp import parser as pyipp_parser
from pyipp import serializer as pyipp_serializer
from pyipp.enums import IppOperation

from drivers.ipp import build as b
from drivers.ipp.codec import (
    IntRange,
    IppAttribute,
    IppDecodeError,
    IppGroup,
    IppMessage,
    LangString,
    Limits,
    Resolution,
    Tagged,
    decode,
    encode,
)
from drivers.ipp.tags import GroupTag, Status, ValueTag, status_name


def _op_group() -> IppGroup:
    return IppGroup(GroupTag.OPERATION).add(
        b.charset("attributes-charset", "utf-8"),
        b.language("attributes-natural-language", "en"),
    )


def _attr_bytes(tag: int, name: str, value: bytes) -> bytes:
    raw_name = name.encode()
    return bytes([tag]) + struct.pack(">H", len(raw_name)) + raw_name + \
        struct.pack(">H", len(value)) + value


def test_encode_matches_rfc_8010_layout() -> None:
    msg = IppMessage((2, 0), 0x000B, 1, [_op_group().add(b.keyword("requested-attributes",
                                                                    "a", "bc"))])
    expected = (
        b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01"
        + _attr_bytes(0x47, "attributes-charset", b"utf-8")
        + _attr_bytes(0x48, "attributes-natural-language", b"en")
        + _attr_bytes(0x44, "requested-attributes", b"a")
        + _attr_bytes(0x44, "", b"bc")
        + b"\x03"
    )
    assert encode(msg) == expected
    assert decode(expected) == msg


def test_collection_wire_form() -> None:
    group = IppGroup(GroupTag.JOB).add(
        b.collection("media-col", [b.collection("media-size", [b.integer("x-dimension", 5)])])
    )
    raw = encode(IppMessage((2, 0), 2, 9, [group]))
    expected_body = (
        _attr_bytes(0x34, "media-col", b"")
        + _attr_bytes(0x4A, "", b"media-size")
        + _attr_bytes(0x34, "", b"")
        + _attr_bytes(0x4A, "", b"x-dimension")
        + _attr_bytes(0x21, "", b"\x00\x00\x00\x05")
        + _attr_bytes(0x37, "", b"")
        + _attr_bytes(0x37, "", b"")
    )
    assert raw == b"\x02\x00\x00\x02\x00\x00\x00\x09\x02" + expected_body + b"\x03"
    decoded = decode(raw).groups[0].attributes["media-col"].value
    assert isinstance(decoded, dict)
    size = decoded["media-size"].value
    assert isinstance(size, dict)
    assert size["x-dimension"].values == [5]


def test_datetime_wire_form_and_timezone() -> None:
    when = datetime(2024, 5, 1, 12, 3, 4, 500_000, tzinfo=timezone(-timedelta(hours=5,
                                                                               minutes=30)))
    raw = encode(IppMessage((2, 0), 0, 1, [IppGroup(GroupTag.JOB).add(b.date_time("t", when))]))
    assert b"\x07\xe8\x05\x01\x0c\x03\x04\x05-\x05\x1e" in raw
    back = decode(raw).groups[0].value("t")
    assert back == when
    assert isinstance(back, datetime) and back.utcoffset() == -timedelta(hours=5, minutes=30)


def test_round_trip_every_syntax() -> None:
    printer = IppGroup(GroupTag.PRINTER).add(
        b.integer("i", -5, 0, 2**31 - 1),
        b.boolean("bools", True, False),
        b.enum("e", 3, 4),
        b.octets("o", b"\x00\xff"),
        b.date_time("d", datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)),
        b.resolution("r", Resolution(600, 300, 4)),
        b.int_range("range", (1, 999), (-3, 3)),
        b.text_lang("tl", LangString("héllo", "fr-CA")),
        b.name_lang("nl", LangString("名前", "ja")),
        b.text("text", "ünïcode"), b.name("name", "n"), b.keyword("kw", "x"),
        b.uri("uri", "ipp://h/p"), b.uri_scheme("scheme", "ipp"), b.charset("cs", "utf-8"),
        b.language("lang", "en-us"), b.mime_type("mime", "application/pdf"),
        b.no_value("nv"), b.unknown("unk"), b.unsupported("uns"),
        IppAttribute("mixed", ValueTag.KEYWORD, ["no-hold", Tagged(ValueTag.NAME, "custom")]),
        b.collection("col", [b.integer("a", 1, 2), b.collection("inner", [b.keyword("k", "v")])],
                     [b.no_value("empty-ish")]),
    )
    msg = IppMessage((1, 1), Status.OK, 2**31 - 1, [
        _op_group(), printer, IppGroup(GroupTag.JOB).add(b.integer("job-id", 1)),
        IppGroup(GroupTag.JOB).add(b.integer("job-id", 2)),
    ], data=b"%PDF-1.4 document bytes")
    back = decode(encode(msg))
    assert back == msg
    assert [g.tag for g in back.groups] == [1, 4, 2, 2]
    assert list(back.groups[1].attributes) == list(printer.attributes)


def test_pyipp_reads_what_we_write_and_we_read_pyipp() -> None:
    """Cross-check against an independent implementation (pyipp's parser and serializer)."""
    msg = IppMessage((2, 0), 0, 7, [_op_group(), IppGroup(GroupTag.PRINTER).add(
        b.integer("printer-up-time", 42), b.keyword("printer-state-reasons", "none", "sleep"),
        b.text("printer-info", "Sim"),
    )])
    parsed = pyipp_parser.parse(encode(msg))
    assert parsed["request-id"] == 7
    assert parsed["printers"][0]["printer-up-time"] == 42
    assert parsed["printers"][0]["printer-state-reasons"] == ["none", "sleep"]
    raw = pyipp_serializer.encode_dict({
        "version": (2, 0), "operation": IppOperation.GET_JOBS, "request-id": 5,
        "operation-attributes-tag": {"attributes-charset": "utf-8",
                                     "attributes-natural-language": "en",
                                     "requesting-user-name": "alice",
                                     "requested-attributes": ["job-id", "job-name"]},
    })
    req = decode(raw)
    assert (req.code, req.request_id) == (IppOperation.GET_JOBS, 5)
    assert req.operation.value("requesting-user-name") == "alice"
    assert req.operation.attributes["requested-attributes"].values == ["job-id", "job-name"]


def test_encode_rejects_values_that_do_not_fit_their_tag() -> None:
    def enc(attr: IppAttribute) -> bytes:
        return encode(IppMessage((2, 0), 0, 1, [IppGroup(GroupTag.JOB).add(attr)]))

    with pytest.raises(ValueError, match="timezone-aware"):
        enc(b.date_time("t", datetime(2024, 1, 1)))
    with pytest.raises(ValueError, match="needs an int"):
        enc(IppAttribute("i", ValueTag.INTEGER, ["3"]))
    with pytest.raises(ValueError, match="no values"):
        enc(IppAttribute("empty", ValueTag.KEYWORD, []))
    with pytest.raises(ValueError, match="too long"):
        enc(b.text("big", "x" * 40_000))


HEADER = b"\x02\x00\x00\x0b\x00\x00\x00\x01"


@pytest.mark.parametrize(("raw", "words"), [
    (b"\x02\x00\x00", "truncated"),
    (HEADER, "no end-of-attributes"),
    (HEADER + b"\x01\x21\x00\x01a\x00\x09\x00\x00", "truncated"),
    (HEADER + b"\x01\x21\x00\x01a\xff\xff", "bad length"),
    (HEADER + b"\x01\x21\x00\x01a\x00\x02\x00\x00\x03", "bad length 2 for an integer"),
    (HEADER + b"\x01\x22\x00\x01a\x00\x01\x07\x03", "bad boolean"),
    (HEADER + b"\x01\x31\x00\x01a\x00\x0b" + b"\x07\xe8\x0d\x01\x00\x00\x00\x00+\x00\x00\x03",
     "bad dateTime"),
    (HEADER + b"\x21\x00\x01a\x00\x04\x00\x00\x00\x01\x03", "before any group"),
    (HEADER + b"\x01\x21\x00\x00\x00\x04\x00\x00\x00\x01\x03", "no attribute before it"),
    (HEADER + b"\x01" + _attr_bytes(0x44, "a", b"x") * 2 + b"\x03", "appears twice"),
    (HEADER + b"\x00\x03", "bad tag 0x00"),
    (HEADER + b"\x01" + _attr_bytes(0x37, "a", b"") + b"\x03", "outside a collection"),
    (HEADER + b"\x01" + _attr_bytes(0x34, "a", b"") + b"\x03", "no endCollection"),
    (HEADER + b"\x01" + _attr_bytes(0x34, "a", b"") + _attr_bytes(0x21, "", b"\0\0\0\1"),
     "no memberAttrName"),
    (HEADER + b"\x01" + _attr_bytes(0x44, "\xff", b"x") + b"\x03", None),
    (HEADER + b"\x01" + _attr_bytes(0x35, "t", b"\x00\x09en") + b"\x03", "with language"),
])
def test_decode_errors_say_what_is_wrong(raw: bytes, words: str | None) -> None:
    if words is None:  # a valid UTF-8 name: must decode
        assert decode(raw).groups[0].value("\xff") == "x"
        return
    with pytest.raises(IppDecodeError, match=words):
        decode(raw, strict=True)


def test_nesting_and_count_limits() -> None:
    inner: list[IppAttribute] = [b.integer("x", 1)]
    for _ in range(12):
        inner = [b.collection("c", inner)]
    raw = encode(IppMessage((2, 0), 0, 1, [IppGroup(GroupTag.JOB).add(*inner)]))
    with pytest.raises(IppDecodeError, match="nested too deep"):
        decode(raw)
    assert decode(raw, Limits(max_depth=20)).groups[0].value("c") is not None
    many = IppGroup(GroupTag.JOB).add(*(b.integer(f"a{i}", i) for i in range(100)))
    raw = encode(IppMessage((2, 0), 0, 1, [many]))
    with pytest.raises(IppDecodeError, match="too many attributes"):
        decode(raw, Limits(max_attributes=50))
    values = encode(IppMessage((2, 0), 0, 1, [IppGroup(2).add(b.integer("v", *range(100)))]))
    with pytest.raises(IppDecodeError, match="too many values"):
        decode(values, Limits(max_values=10))


def test_status_names() -> None:
    assert status_name(0) == "successful-ok"
    assert status_name(0x0406) == "client-error-not-found"
    assert status_name(0x0001) == "successful-ok-ignored-or-substituted-attributes"
    assert status_name(0x0999) == "status 0x0999"
    assert IntRange(1, 2) == (1, 2)
