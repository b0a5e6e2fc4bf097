"""SNMP v1/v2c values (RFC 2578 SMIv2 types, RFC 3416 exceptions) as frozen dataclasses.

A value the printer encoded wrongly (a Counter32 of nine octets, an IpAddress of three, an
unknown type) decodes to `Undecodable` with the reason, so it costs only its own var-bind,
never the whole answer: the other values of that GET stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from drivers.snmp import ber

OID = ber.OID


class Value:
    """Base of every SNMP value: its tag and how to write it."""

    TAG: ClassVar[int]
    KIND: ClassVar[str] = "a value"

    def describe(self) -> str:
        """The value's type in plain words, for "answered X with Y instead of Z"."""
        return self.KIND

    def content(self) -> bytes:
        return b""

    def to_bytes(self) -> bytes:
        return ber.encode_tlv(self.TAG, self.content())


@dataclass(frozen=True)
class Number(Value):
    """INTEGER and the SMIv2 unsigned types; `BITS`/`SIGNED` give the range."""

    value: int
    BITS: ClassVar[int] = 32
    SIGNED: ClassVar[bool] = False

    def __post_init__(self) -> None:
        low, high = ((-(2 ** (self.BITS - 1)), 2 ** (self.BITS - 1) - 1) if self.SIGNED
                     else (0, 2**self.BITS - 1))
        if not low <= self.value <= high:
            raise ValueError(f"{type(self).__name__} {self.value} is outside {low} to {high}")

    def content(self) -> bytes:
        return ber.encode_signed(self.value)

    def __int__(self) -> int:
        return self.value


@dataclass(frozen=True)
class Integer(Number):
    """INTEGER / Integer32. Read up to 64 bits: some printers send wide counters as it."""

    TAG = 0x02
    BITS = 64
    SIGNED = True
    KIND = "a number"


@dataclass(frozen=True)
class Counter32(Number):
    TAG = 0x41
    KIND = "a counter"


@dataclass(frozen=True)
class Gauge32(Number):
    TAG = 0x42
    KIND = "a gauge"


@dataclass(frozen=True)
class TimeTicks(Number):
    TAG = 0x43
    KIND = "a time in hundredths of a second"


@dataclass(frozen=True)
class Counter64(Number):
    TAG = 0x46
    BITS = 64
    KIND = "a 64-bit counter"


@dataclass(frozen=True)
class Octets(Value):
    """The types whose content is their bytes as they are."""

    value: bytes

    def content(self) -> bytes:
        return self.value


@dataclass(frozen=True)
class OctetString(Octets):
    TAG = 0x04
    KIND = "text"


@dataclass(frozen=True)
class Opaque(Octets):
    """Opaque: BER-wrapped bytes of any type, kept as the bytes sent."""

    TAG = 0x44
    KIND = "opaque bytes"


@dataclass(frozen=True)
class IpAddress(Octets):
    TAG = 0x40
    KIND = "an IP address"

    def __post_init__(self) -> None:
        if len(self.value) != 4:
            raise ValueError(f"an IpAddress has 4 octets, not {len(self.value)}")


@dataclass(frozen=True)
class ObjectIdentifier(Value):
    value: OID
    TAG = 0x06
    KIND = "an object identifier"

    def content(self) -> bytes:
        return ber.encode_oid(self.value)


@dataclass(frozen=True)
class Null(Value):
    TAG = 0x05
    KIND = "an empty value (NULL)"


@dataclass(frozen=True)
class NoSuchObject(Value):
    TAG = 0x80
    KIND = "nothing (no such object)"


@dataclass(frozen=True)
class NoSuchInstance(Value):
    TAG = 0x81
    KIND = "nothing (no such object)"


@dataclass(frozen=True)
class EndOfMibView(Value):
    TAG = 0x82
    KIND = "nothing (end of its MIB)"


@dataclass(frozen=True)
class Undecodable(Value):
    """A value whose type is unknown or whose content is wrong for its type."""

    tag: int
    raw: bytes
    reason: str
    TAG = -1  # written back with its own tag

    def describe(self) -> str:
        return f"a value that cannot be decoded ({self.reason})"

    def to_bytes(self) -> bytes:
        return ber.encode_tlv(self.tag, self.raw)


EXCEPTIONS = (NoSuchObject, NoSuchInstance, EndOfMibView)
_NUMBERS: dict[int, type[Number]] = {c.TAG: c for c in (Integer, Counter32, Gauge32, TimeTicks,
                                                        Counter64)}
_EMPTY: dict[int, type[Value]] = {c.TAG: c for c in (Null, *EXCEPTIONS)}


def _number(cls: type[Number], content: bytes) -> Value:
    """A number in range for its type; padded (non-minimal) encodings are accepted."""
    name = cls.__name__
    if not content:
        return Undecodable(cls.TAG, content, f"a {name} with no content")
    if len(content) > 9:  # 64 bits and a sign octet; longer is junk, not a number
        return Undecodable(cls.TAG, content, f"a {name} of {len(content)} octets")
    number = ber.decode_signed(content)
    if not cls.SIGNED and number < 0:
        return Undecodable(cls.TAG, content, f"a {name} encoded as a negative number ({number})")
    try:
        return cls(number)
    except ValueError as exc:
        return Undecodable(cls.TAG, content, str(exc))


def decode_value(tag: int, content: bytes) -> Value:
    """The value for one var-bind's tag and content octets; never raises."""
    number = _NUMBERS.get(tag)
    if number is not None:
        return _number(number, content)
    if tag == OctetString.TAG:
        return OctetString(content)
    if tag == Opaque.TAG:
        return Opaque(content)
    if tag == IpAddress.TAG:
        if len(content) != 4:
            return Undecodable(tag, content, f"an IpAddress of {len(content)} octets")
        return IpAddress(content)
    if tag == ObjectIdentifier.TAG:
        try:
            return ObjectIdentifier(ber.decode_oid(content))
        except ber.BerError as exc:
            return Undecodable(tag, content, str(exc))
    empty = _EMPTY.get(tag)
    if empty is not None:
        if content:
            return Undecodable(tag, content, f"a {empty.__name__} with content")
        return empty()
    return Undecodable(tag, content, f"type 0x{tag:02x} is not an SNMP value type")
