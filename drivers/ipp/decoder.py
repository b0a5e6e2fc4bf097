"""IPP decoding (RFC 8010) that takes what real printers send.

Real printers send text that is not UTF-8 (a Latin-1 printer-location), values of the wrong
length, and now and then an attribute whose framing is broken (an HP that leaves out the
outer length of a nameWithLanguage, a Xerox that leaves out a collection's value length).
Rejecting the whole answer for that loses the printer's state and counters over one
attribute nobody reads. So a bad value fails only its own attribute: the attribute is left
out and the message's `problems` name it and its byte offset; text that is not UTF-8 is read
as Latin-1 and noted in `notes`. Only what leaves the message unreadable raises
IppDecodeError: a broken header, a missing end tag, framing no attribute boundary can be
found after, and the hard limits on attribute count and nesting depth.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from drivers.ipp.message import (
    DecodeProblem,
    IntRange,
    IppAttribute,
    IppGroup,
    IppMessage,
    LangString,
    Resolution,
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

MAX_SHORT = 0x7FFF
_NAME_RE = re.compile(rb"[a-zA-Z][a-zA-Z0-9._-]*\Z")
_LAST_VALUE_TAG = ValueTag.MEMBER_ATTR_NAME


class IppDecodeError(Exception):
    """Bytes that are not a readable IPP message; str(exc) says what is wrong in plain words."""


class IppLimitError(IppDecodeError):
    """Hostile input: more attributes, values or nesting than the limits allow."""


class _ValueError(IppDecodeError):
    """One value is malformed but its framing is intact: only its attribute is lost."""


@dataclass(frozen=True)
class Limits:
    """Bounds on hostile input: attributes (collection members count too) and nesting."""

    max_attributes: int = 50_000
    max_values: int = 200_000
    max_depth: int = 10


DEFAULT_LIMITS = Limits()


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS, *, strict: bool = False
           ) -> IppMessage:
    """Parse a whole message. A malformed attribute is left out and named in `problems`;
    with `strict` (a server reading requests) it raises IppDecodeError instead."""
    msg = _Reader(bytes(data), limits).message()
    if strict and msg.problems:
        raise IppDecodeError(str(msg.problems[0]))
    return msg


class _Reader:
    def __init__(self, buf: bytes, limits: Limits) -> None:
        self.buf = buf
        self.pos = 0
        self.limits = limits
        self.attributes = 0
        self.values = 0
        self.attribute = ""  # the attribute being read, for notes
        self.problems: list[DecodeProblem] = []
        self.notes: list[DecodeProblem] = []

    # ----- framing ---------------------------------------------------------------

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
            raise IppLimitError(f"too many attributes (more than {self.limits.max_attributes})")
        if self.values > self.limits.max_values:
            raise IppLimitError(f"too many values (more than {self.limits.max_values})")

    # ----- the message -----------------------------------------------------------

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
            start = self.pos
            tag = self.buf[self.pos]
            self.pos += 1
            if tag == GroupTag.END:
                break
            if tag == 0 or tag > _LAST_VALUE_TAG:
                self.resync(start, (last.name if last else "") or "the message",
                            f"bad tag 0x{tag:02x}")
                continue
            if tag < 0x10:
                current, last = IppGroup(tag), None
                groups.append(current)
                continue
            if current is None:
                raise IppDecodeError("an attribute comes before any group tag")
            last = self.attribute_into(current, last, tag, start)
        return IppMessage((major, minor), code, request_id, groups, self.buf[self.pos:],
                          self.problems, self.notes)

    def attribute_into(self, group: IppGroup, last: IppAttribute | None, tag: int,
                       start: int) -> IppAttribute | None:
        """Read one attribute or additional value into `group`; the attribute that further
        values belong to (None after a lost attribute, whose values are lost with it)."""
        try:
            name = self.text(self.field("an attribute name"), "an attribute name")
        except IppLimitError:
            raise
        except IppDecodeError as exc:
            self.resync(start + 1, "an attribute name", str(exc))
            return None
        self.attribute = name or (last.name if last else "")
        value_at = self.pos
        try:
            if tag in (ValueTag.END_COLLECTION, ValueTag.MEMBER_ATTR_NAME):
                self.field("a value")
                raise _ValueError(f"bad tag 0x{tag:02x} outside a collection")
            value = self.value(tag, 1)
        except IppLimitError:
            raise
        except _ValueError as exc:
            return self.lose(group, name or self.attribute, tag, value_at, str(exc))
        except IppDecodeError as exc:
            self.resync(value_at, self.attribute or "an additional value", str(exc))
            return None
        if not name:
            self.count(attribute=False)
            if last is None:
                return self.lose(group, "", tag, start, "an additional value has no "
                                                        "attribute before it")
            last.add(tag, value)
            return last
        if name in group.attributes:
            return self.lose(None, name, tag, start, "appears twice in one group; the first "
                                                     "is kept")
        self.count(attribute=True)
        attr = IppAttribute(name, tag, [value])
        group.attributes[name] = attr
        return attr

    def lose(self, group: IppGroup | None, name: str, tag: int, offset: int, reason: str
             ) -> IppAttribute:
        """Leave an attribute with a malformed value out of `group` (values read before it
        too); the framing is intact, so reading goes on. Its further values go to the
        detached attribute returned, and are dropped with it."""
        if group is not None and name:
            group.attributes.pop(name, None)
        self.problems.append(DecodeProblem(name or "an additional value", offset, reason))
        return IppAttribute(name, tag)

    def resync(self, offset: int, name: str, reason: str) -> None:
        """Framing broke inside an attribute: skip to the next place where a plausible
        attribute or group starts. Nothing plausible after it: the message is unreadable."""
        for at in range(offset, len(self.buf)):
            if self.plausible(at):
                self.problems.append(DecodeProblem(
                    name, offset, f"{reason}; skipped {at - offset} bytes to the next attribute"))
                self.pos = at
                return
        raise IppDecodeError(f"attribute {name!r} at byte {offset}: {reason}, and no attribute "
                             "follows that could be read")

    def plausible(self, at: int) -> bool:
        """An end tag as the last byte, a group tag before a plausible attribute or the end,
        or a named attribute whose value fits and is followed by a valid tag."""
        buf = self.buf
        tag = buf[at]
        if tag == GroupTag.END:
            return at == len(buf) - 1
        if 0 < tag < 0x10:
            nxt = at + 1
            return nxt < len(buf) and ((nxt == len(buf) - 1 and buf[nxt] == GroupTag.END)
                                       or (buf[nxt] >= 0x10 and self.plausible(nxt)))
        if not 0x10 <= tag < _LAST_VALUE_TAG or tag == ValueTag.END_COLLECTION:
            return False
        if at + 3 > len(buf):
            return False
        (n,) = struct.unpack_from(">H", buf, at + 1)
        name = buf[at + 3:at + 3 + n]
        if not 0 < n <= 255 or not _NAME_RE.match(name) or at + 5 + n > len(buf):
            return False
        (m,) = struct.unpack_from(">H", buf, at + 3 + n)
        after = at + 5 + n + m
        return after < len(buf) and 0 < buf[after] <= _LAST_VALUE_TAG

    # ----- values ----------------------------------------------------------------

    def text(self, raw: bytes, what: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            self.notes.append(DecodeProblem(
                self.attribute or what, self.pos - len(raw),
                f"{what} is not UTF-8; read as Latin-1: {text!r}"))
            return text

    def value(self, tag: int, depth: int) -> Value:
        start = self.pos
        raw = self.field("a value")
        if tag == ValueTag.BEG_COLLECTION:
            return self.collection(depth)
        if tag in WITH_LANGUAGE_TAGS:
            return self.with_language(raw, start)
        if tag in STRING_TAGS:
            return self.text(raw, "a text value")
        try:
            return decode_value(tag, raw)
        except IppDecodeError as exc:
            raise _ValueError(str(exc)) from None

    def with_language(self, raw: bytes, start: int) -> LangString:
        """textWithLanguage / nameWithLanguage. Some HP printers leave out the outer length
        and send [length, language, length, text] straight after the name: read that form
        when the usual one does not parse and the bytes after it are a valid tag."""
        try:
            return self.lang_parts(raw)
        except IppDecodeError as exc:
            end = self.pos
            self.pos = start
            try:
                language = self.field("a language tag")
                text = self.field("a text value")
            except IppDecodeError:
                self.pos = end
                raise _ValueError(str(exc)) from None
            if self.pos < len(self.buf) and 0 < self.buf[self.pos] <= _LAST_VALUE_TAG:
                self.notes.append(DecodeProblem(
                    self.attribute or "an additional value", start,
                    "a value with language came without its outer length (a known printer "
                    "fault); read anyway"))
                return LangString(self.text(text, "a text value"),
                                  self.text(language, "a language tag"))
            self.pos = end
            raise _ValueError(str(exc)) from None

    def lang_parts(self, raw: bytes) -> LangString:
        if len(raw) < 4:
            raise IppDecodeError("bad length for a value with language")
        (n,) = struct.unpack_from(">H", raw)
        lang_end = 2 + n
        if lang_end + 2 > len(raw):
            raise IppDecodeError("bad length for the language of a value with language")
        (m,) = struct.unpack_from(">H", raw, lang_end)
        if lang_end + 2 + m != len(raw):
            raise IppDecodeError("bad length for the text of a value with language")
        return LangString(self.text(raw[lang_end + 2:], "a text value"),
                          self.text(raw[2:lang_end], "a language tag"))

    def collection(self, depth: int) -> dict[str, IppAttribute]:
        if depth > self.limits.max_depth:
            raise IppLimitError(
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
                    raise _ValueError(f"collection member {empty[0]!r} has no value")
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
    """One non-collection value from its bytes, strictly (text must be UTF-8)."""
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
    if tag in WITH_LANGUAGE_TAGS or tag in STRING_TAGS:
        reader = _Reader(raw, DEFAULT_LIMITS)
        text = reader.lang_parts(raw) if tag in WITH_LANGUAGE_TAGS else reader.text(raw, "")
        if reader.notes:
            raise IppDecodeError("a string value is not valid UTF-8")
        return text
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
