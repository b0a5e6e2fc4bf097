"""IPP/2.x wire codec (RFC 8010), stdlib only: whole messages to and from bytes.

Ours rather than pyipp's because pyipp drops unknown attributes, has no collections or
dateTime, and the simulator needs the encoder too. Decoding lives in drivers.ipp.decoder:
bounded, and lenient per attribute so one bad value from a real printer costs only that
attribute; it is re-exported here so callers keep one import.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta

from drivers.ipp.decoder import (
    DEFAULT_LIMITS,
    MAX_SHORT,
    IppDecodeError,
    IppLimitError,
    Limits,
    decode,
    decode_value,
)
from drivers.ipp.message import (
    DecodeProblem,
    IntRange,
    IppAttribute,
    IppGroup,
    IppMessage,
    LangString,
    Resolution,
    Tagged,
    Value,
)
from drivers.ipp.tags import (
    INT_TAGS,
    OUT_OF_BAND,
    WITH_LANGUAGE_TAGS,
    GroupTag,
    ValueTag,
)

__all__ = [
    "DEFAULT_LIMITS", "DecodeProblem", "IntRange", "IppAttribute", "IppDecodeError", "IppGroup",
    "IppLimitError", "IppMessage", "LangString", "Limits", "Resolution", "Tagged", "Value",
    "decode", "decode_value", "encode",
]


# ----- encoding ------------------------------------------------------------------


def encode(msg: IppMessage) -> bytes:
    """The wire form of a message. Raises ValueError when a value does not fit its tag."""
    out = bytearray(struct.pack(">BBHi", msg.version[0], msg.version[1], msg.code,
                                msg.request_id))
    for group in msg.groups:
        out.append(group.tag)
        for attr in group.attributes.values():
            _encode_attribute(out, attr.name, attr)
    out.append(GroupTag.END)
    out += msg.data
    return bytes(out)


def _encode_attribute(out: bytearray, name: str, attr: IppAttribute) -> None:
    if not attr.values:
        raise ValueError(f"attribute {name!r} has no values")
    for i, value in enumerate(attr.values):
        tag = attr.tag
        if isinstance(value, Tagged):
            tag, value = value.tag, value.value
        _encode_one(out, tag, name if i == 0 else "", value)


def _put(out: bytearray, raw: bytes, what: str) -> None:
    if len(raw) > MAX_SHORT:
        raise ValueError(f"{what} is too long ({len(raw)} bytes, at most {MAX_SHORT})")
    out += struct.pack(">H", len(raw))
    out += raw


def _encode_one(out: bytearray, tag: int, name: str, value: Value) -> None:
    out.append(tag)
    _put(out, name.encode(), "an attribute name")
    if tag != ValueTag.BEG_COLLECTION:
        _put(out, encode_value(tag, value, name), f"the value of {name!r}")
        return
    if not isinstance(value, dict):
        raise ValueError(f"{name!r}: a collection needs a dict of members")
    _put(out, b"", "")
    for member in value.values():
        out.append(ValueTag.MEMBER_ATTR_NAME)
        _put(out, b"", "")
        _put(out, member.name.encode(), "a member name")
        if not member.values:
            raise ValueError(f"collection member {member.name!r} has no values")
        for mvalue in member.values:
            mtag = member.tag
            if isinstance(mvalue, Tagged):
                mtag, mvalue = mvalue.tag, mvalue.value
            _encode_one(out, mtag, "", mvalue)
    out.append(ValueTag.END_COLLECTION)
    _put(out, b"", "")
    _put(out, b"", "")


def encode_value(tag: int, value: Value, name: str = "") -> bytes:
    """The bytes of one non-collection value."""
    def wrong(kind: str) -> ValueError:
        return ValueError(f"{name or 'value'}: tag 0x{tag:02x} needs {kind}, "
                          f"got {type(value).__name__}")

    if tag in OUT_OF_BAND:
        return b""
    if tag in INT_TAGS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong("an int")
        return struct.pack(">i", value)
    if tag == ValueTag.BOOLEAN:
        if not isinstance(value, bool):
            raise wrong("a bool")
        return b"\x01" if value else b"\x00"
    if tag == ValueTag.DATE_TIME:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise wrong("a timezone-aware datetime")
        return _encode_datetime(value)
    if tag == ValueTag.RESOLUTION:
        if not isinstance(value, Resolution):
            raise wrong("a Resolution")
        return struct.pack(">iib", *value)
    if tag == ValueTag.RANGE_OF_INTEGER:
        if not isinstance(value, IntRange):
            raise wrong("an IntRange")
        return struct.pack(">ii", *value)
    if tag in WITH_LANGUAGE_TAGS:
        if not isinstance(value, LangString):
            raise wrong("a LangString")
        lang, text = value.language.encode(), value.text.encode()
        return struct.pack(">H", len(lang)) + lang + struct.pack(">H", len(text)) + text
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise wrong("str or bytes")


def _encode_datetime(value: datetime) -> bytes:
    offset = value.utcoffset() or timedelta(0)
    sign = b"-" if offset < timedelta(0) else b"+"
    minutes = abs(int(offset.total_seconds())) // 60
    return struct.pack(">HBBBBBBcBB", value.year, value.month, value.day, value.hour,
                       value.minute, value.second, value.microsecond // 100_000, sign,
                       minutes // 60, minutes % 60)
