"""BER as SNMP uses it (X.690 definite lengths, one-octet tags): TLVs, integers and OIDs.

Pure functions on bytes, no I/O. Decoding never trusts a length: every read is checked
against the end of its enclosing value and fails with a `BerError` that names the byte
offset and the reason in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

OID = tuple[int, ...]

MAX_OID_ARCS = 128  # RFC 2578 §7.1.3: at most 128 sub-identifiers
MAX_ARC = 2**32 - 1  # each at most 2^32-1


class BerError(ValueError):
    """Bytes that are not valid BER here; the message names the byte offset and why."""


class BerEncodeError(ValueError):
    """A value that cannot be written in BER (an OID with a bad first arc, say)."""


@dataclass(frozen=True)
class Tlv:
    """One decoded tag-length-value: its tag and where its content lies in the buffer."""

    tag: int
    start: int
    """Offset of the tag octet."""
    content: int
    """Offset of the first content octet."""
    end: int
    """Offset just past the content."""


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def encode_tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + encode_length(len(content)) + content


def read_tlv(data: bytes, offset: int, end: int, what: str) -> Tlv:
    """The TLV at `offset`, which must end by `end`; `what` names it in errors."""
    if offset >= end:
        raise BerError(f"{what} expected at byte {offset}, but the data ends there")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise BerError(f"{what} at byte {offset} has a multi-octet tag (0x{tag:02x}), "
                       "which SNMP never uses")
    at = offset + 1
    if at >= end:
        raise BerError(f"{what} at byte {offset} has no length: the data ends at byte {at}")
    first = data[at]
    at += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise BerError(f"{what} at byte {offset} has an indefinite length, which SNMP forbids")
    else:
        count = first & 0x7F
        if count > 4:
            raise BerError(f"{what} at byte {offset} has a {count}-octet length, "
                           "too long for a datagram")
        if at + count > end:
            raise BerError(f"{what} at byte {offset}: its length runs past the end of the data")
        length = int.from_bytes(data[at:at + count], "big")
        at += count
    if at + length > end:
        raise BerError(f"{what} at byte {offset} claims {length} bytes of content, "
                       f"but only {end - at} remain")
    return Tlv(tag, offset, at, at + length)


def expect(data: bytes, offset: int, end: int, tag: int, what: str) -> Tlv:
    """The TLV at `offset`, which must have `tag` (checked before its length)."""
    if offset < end and data[offset] != tag:
        raise BerError(f"{what} at byte {offset} should have tag 0x{tag:02x}, "
                       f"found 0x{data[offset]:02x}")
    return read_tlv(data, offset, end, what)


def encode_signed(n: int) -> bytes:
    """Two's complement content octets, minimal (0 is one zero octet)."""
    return n.to_bytes((n if n >= 0 else ~n).bit_length() // 8 + 1, "big", signed=True)


def decode_signed(content: bytes) -> int:
    return int.from_bytes(content, "big", signed=True)


def encode_oid(oid: OID) -> bytes:
    """OID content octets; the first two arcs share one sub-identifier (X.690 §8.19)."""
    if len(oid) < 2:
        raise BerEncodeError(f"an OID needs at least two arcs, not {len(oid)}")
    if len(oid) > MAX_OID_ARCS:
        raise BerEncodeError(f"an OID has at most {MAX_OID_ARCS} arcs, not {len(oid)}")
    first, second = oid[0], oid[1]
    if first not in (0, 1, 2) or second < 0 or (first < 2 and second >= 40):
        raise BerEncodeError(f"an OID cannot start {first}.{second}")
    out = bytearray()
    for arc in (first * 40 + second, *oid[2:]):
        if not 0 <= arc <= (MAX_ARC + 80 if not out else MAX_ARC):
            raise BerEncodeError(f"OID arc {arc} is outside 0 to {MAX_ARC}")
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def decode_oid(content: bytes) -> OID:
    """OID content octets to arcs; raises `BerError` (offsets within the content)."""
    if not content:
        raise BerError("an OID with no content")
    arcs: list[int] = []
    value = 0
    for i, octet in enumerate(content):
        value = (value << 7) | (octet & 0x7F)
        if value > (MAX_ARC if arcs else MAX_ARC + 80):  # the first holds two arcs
            raise BerError(f"OID sub-identifier at octet {i} exceeds 2^32-1")
        if octet & 0x80:
            continue
        if arcs:
            arcs.append(value)
        else:
            arcs.extend((min(value // 40, 2), value - 40 * min(value // 40, 2)))
        if len(arcs) > MAX_OID_ARCS:
            raise BerError(f"an OID of more than {MAX_OID_ARCS} arcs")
        value = 0
    if content[-1] & 0x80:
        raise BerError("an OID whose last sub-identifier is cut short")
    return tuple(arcs)
