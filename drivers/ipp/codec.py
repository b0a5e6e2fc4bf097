"""IPP/2.x wire codec (RFC 8010), stdlib only: whole messages to and from bytes.

Ours rather than pyipp's because pyipp drops unknown attributes, has no collections or
dateTime, and the simulator needs the encoder too. Decoding is strict and bounded: any
malformed input raises IppDecodeError with a plain-words reason, and hard limits on attribute
count and collection depth keep hostile input from using much memory or stack.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from drivers.ipp.message import (
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
    STRING_TAGS,
    WITH_LANGUAGE_TAGS,
    GroupTag,
    ValueTag,
)

__all__ = [
    "DEFAULT_LIMITS", "IntRange", "IppAttribute", "IppDecodeError", "IppGroup", "IppMessage",
    "LangString", "Limits", "Resolution", "Tagged", "Value", "decode", "encode",
]

MAX_SHORT = 0x7FFF


class IppDecodeError(Exception):
    """Bytes that are not a valid IPP message; str(exc) says what is wrong in plain words."""


@dataclass(frozen=True)
class Limits:
    """Bounds on hostile input: attributes (collection members count too) and nesting."""

    max_attributes: int = 50_000
    max_values: int = 200_000
    max_depth: int = 10


DEFAULT_LIMITS = Limits()


# ----- decoding ------------------------------------------------------------------


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> IppMessage:
    """Parse a whole message; raise IppDecodeError on anything malformed."""
    return _Reader(bytes(data), limits).message()


class _Reader:
    def __init__(self, buf: bytes, limits: Limits) -> None:
        self.buf = buf
        self.pos = 0
        self.limits = limits
        self.attributes = 0
        self.values = 0

    def take(self, n: int, what: str) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise IppDecodeError(
                f"message is truncated: {what} needs {n} bytes at offset {self.pos}, "
                f"only {len(self.buf) - self.pos} left"
            )
        chunk = self.buf[self.pos:end]
        self.pos = end
        return chunk

    def short(self, what: str) -> int:
        (n,) = struct.unpack(">H", self.take(2, what))
        if n > MAX_SHORT:
            raise IppDecodeError(f"bad length {n} for {what} at offset {self.pos - 2}")
        return n

    def field(self, what: str) -> bytes:
        return self.take(self.short(f"the length of {what}"), what)

    def count(self, *, attribute: bool) -> None:
        self.values += 1
        if attribute:
            self.attributes += 1
        if self.attributes > self.limits.max_attributes:
            raise IppDecodeError(f"too many attributes (more than {self.limits.max_attributes})")
        if self.values > self.limits.max_values:
            raise IppDecodeError(f"too many values (more than {self.limits.max_values})")

    def message(self) -> IppMessage:
        if len(self.buf) < 8:
            raise IppDecodeError(
                f"message is truncated: {len(self.buf)} bytes, an IPP header needs 8"
            )
        major, minor, code, request_id = struct.unpack(">BBHi", self.take(8, "the header"))
        groups: list[IppGroup] = []
        current: IppGroup | None = None
        last: IppAttribute | None = None
        while True:
            if self.pos >= len(self.buf):
                raise IppDecodeError("message is truncated: no end-of-attributes tag")
            tag = self.buf[self.pos]
            self.pos += 1
            if tag == GroupTag.END:
                break
            if tag < 0x10:
                if tag == 0:
                    raise IppDecodeError(f"bad tag 0x00 at offset {self.pos - 1}")
                current, last = IppGroup(tag), None
                groups.append(current)
                continue
            if current is None:
                raise IppDecodeError("an attribute comes before any group tag")
            name = self.text(self.field("an attribute name"), "an attribute name")
            if tag in (ValueTag.END_COLLECTION, ValueTag.MEMBER_ATTR_NAME):
                raise IppDecodeError(f"bad tag 0x{tag:02x} outside a collection")
            value = self.value(tag, 1)
            if name:
                if name in current.attributes:
                    raise IppDecodeError(f"attribute {name!r} appears twice in one group")
                self.count(attribute=True)
                last = IppAttribute(name, tag, [value])
                current.attributes[name] = last
            elif last is None:
                raise IppDecodeError("an additional value has no attribute before it")
            else:
                self.count(attribute=False)
                last.add(tag, value)
        return IppMessage((major, minor), code, request_id, groups, self.buf[self.pos:])

    @staticmethod
    def text(raw: bytes, what: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise IppDecodeError(f"{what} is not valid UTF-8") from None

    def value(self, tag: int, depth: int) -> Value:
        raw = self.field("a value")
        if tag == ValueTag.BEG_COLLECTION:
            return self.collection(depth)
        return decode_value(tag, raw)

    def collection(self, depth: int) -> dict[str, IppAttribute]:
        if depth > self.limits.max_depth:
            raise IppDecodeError(
                f"collections nested too deep (more than {self.limits.max_depth} levels)"
            )
        members: dict[str, IppAttribute] = {}
        member: IppAttribute | None = None
        while True:
            if self.pos >= len(self.buf):
                raise IppDecodeError("message is truncated inside a collection")
            tag = self.buf[self.pos]
            self.pos += 1
            if tag < 0x10:
                raise IppDecodeError("a collection has no endCollection before the next group")
            if self.field("a member name field"):
                raise IppDecodeError("a collection member has a name field (expected none)")
            if tag == ValueTag.END_COLLECTION:
                self.field("an endCollection value")
                empty = [m.name for m in members.values() if not m.values]
                if empty:
                    raise IppDecodeError(f"collection member {empty[0]!r} has no value")
                return members
            if tag == ValueTag.MEMBER_ATTR_NAME:
                mname = self.text(self.field("a member name"), "a member name")
                if not mname:
                    raise IppDecodeError("a collection member has an empty name")
                if mname in members:
                    raise IppDecodeError(f"collection member {mname!r} appears twice")
                self.count(attribute=True)
                member = members[mname] = IppAttribute(mname, tag)
                continue
            if member is None:
                raise IppDecodeError("a collection value has no memberAttrName before it")
            self.count(attribute=False)
            member.add(tag, self.value(tag, depth + 1))


def decode_value(tag: int, raw: bytes) -> Value:
    """One non-collection value from its bytes."""
    if tag in OUT_OF_BAND:
        return None
    if tag in INT_TAGS:
        _need(raw, 4, "an integer")
        return int(struct.unpack(">i", raw)[0])
    if tag == ValueTag.BOOLEAN:
        _need(raw, 1, "a boolean")
        if raw[0] > 1:
            raise IppDecodeError(f"bad boolean value {raw[0]}")
        return raw[0] == 1
    if tag == ValueTag.DATE_TIME:
        return _decode_datetime(raw)
    if tag == ValueTag.RESOLUTION:
        _need(raw, 9, "a resolution")
        return Resolution(*struct.unpack(">iib", raw))
    if tag == ValueTag.RANGE_OF_INTEGER:
        _need(raw, 8, "a rangeOfInteger")
        return IntRange(*struct.unpack(">ii", raw))
    if tag in WITH_LANGUAGE_TAGS:
        return _decode_with_language(raw)
    if tag in STRING_TAGS:
        return _Reader.text(raw, "a string value")
    return raw


def _need(raw: bytes, n: int, what: str) -> None:
    if len(raw) != n:
        raise IppDecodeError(f"bad length {len(raw)} for {what} (needs {n} bytes)")


def _decode_datetime(raw: bytes) -> datetime:
    _need(raw, 11, "a dateTime")
    year, month, day, hour, minute, second, deci, sign, off_h, off_m = struct.unpack(
        ">HBBBBBBcBB", raw
    )
    if sign not in (b"+", b"-") or deci > 9 or off_h > 14 or off_m > 59:
        raise IppDecodeError("bad dateTime value")
    offset = timedelta(hours=off_h, minutes=off_m)
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), deci * 100_000,
                        tzinfo=timezone(-offset if sign == b"-" else offset))
    except ValueError:
        raise IppDecodeError("bad dateTime value") from None


def _decode_with_language(raw: bytes) -> LangString:
    if len(raw) < 4:
        raise IppDecodeError("bad length for a value with language")
    (n,) = struct.unpack_from(">H", raw)
    lang_end = 2 + n
    if lang_end + 2 > len(raw):
        raise IppDecodeError("bad length for the language of a value with language")
    (m,) = struct.unpack_from(">H", raw, lang_end)
    if lang_end + 2 + m != len(raw):
        raise IppDecodeError("bad length for the text of a value with language")
    language = _Reader.text(raw[2:lang_end], "a language tag")
    return LangString(_Reader.text(raw[lang_end + 2:], "a text value"), language)


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
