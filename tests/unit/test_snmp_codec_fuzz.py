"""Fuzzing our SNMP codec: any datagram decodes or fails with a typed, plain error.

2,000 examples per test and run (4 tests: 8,000 a run); set SNMP_FUZZ_EXAMPLES for a
longer run, as for the 100k-case runs the team does on decoders.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.snmp import ber
from drivers.snmp.message import Message, Pdu, PduType, SnmpDecodeError, VarBind, Version
from drivers.snmp.values import (
    Counter32,
    Counter64,
    EndOfMibView,
    Gauge32,
    Integer,
    IpAddress,
    NoSuchInstance,
    NoSuchObject,
    Null,
    ObjectIdentifier,
    OctetString,
    Opaque,
    TimeTicks,
    Undecodable,
    Value,
    decode_value,
)

FUZZ = settings(max_examples=int(os.environ.get("SNMP_FUZZ_EXAMPLES", "2000")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ARC = st.integers(0, 2**32 - 1)
OIDS = st.one_of(
    st.tuples(st.integers(0, 1), st.integers(0, 39)),
    st.tuples(st.just(2), ARC),
).flatmap(lambda head: st.lists(st.one_of(st.integers(0, 300), ARC), max_size=14)
          .map(lambda tail: (*head, *tail)))
VALUES: st.SearchStrategy[Value] = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(Integer),
    st.integers(0, 2**32 - 1).map(Counter32),
    st.integers(0, 2**32 - 1).map(Gauge32),
    st.integers(0, 2**32 - 1).map(TimeTicks),
    st.integers(0, 2**64 - 1).map(Counter64),
    st.binary(max_size=80).map(OctetString),
    st.binary(max_size=20).map(Opaque),
    st.binary(min_size=4, max_size=4).map(IpAddress),
    OIDS.map(ObjectIdentifier),
    st.sampled_from([Null(), NoSuchObject(), NoSuchInstance(), EndOfMibView()]),
)
INT32 = st.integers(-(2**31), 2**31 - 1)
NON_NEGATIVE = st.integers(0, 2**31 - 1)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    version = draw(st.sampled_from(Version))
    types = [t for t in PduType if not (version is Version.V1 and t is PduType.GET_BULK)]
    pdu = Pdu(draw(st.sampled_from(types)), draw(INT32), draw(NON_NEGATIVE), draw(NON_NEGATIVE),
              tuple(draw(st.lists(st.builds(VarBind, OIDS, VALUES), max_size=6))))
    return Message(version, draw(st.binary(max_size=40)), pdu)


def decoded_or_plain_error(raw: bytes) -> Message | None:
    """The decoded message, or None after checking the error is typed and plain."""
    try:
        message = Message.from_bytes(raw)
    except SnmpDecodeError as exc:
        text = str(exc)
        assert text.startswith("not an SNMP message: ") and len(text) < 300
        assert text.isprintable()
        return None
    # What decodes re-encodes to something that decodes to the same message.
    assert Message.from_bytes(message.to_bytes()) == message
    return message


@FUZZ
@given(messages())
def test_messages_round_trip(message: Message) -> None:
    raw = message.to_bytes()
    assert Message.from_bytes(raw) == message
    assert Message.from_bytes(raw).to_bytes() == raw


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_decode_or_fail_plainly(raw: bytes) -> None:
    decoded_or_plain_error(raw)


@FUZZ
@given(messages(), st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "drop"]),
                                      st.integers(0, 10**6), st.integers(0, 255)),
                            min_size=1, max_size=4))
def test_damaged_messages_decode_or_fail_plainly(message: Message,
                                                 edits: list[tuple[str, int, int]]) -> None:
    """Real answers with a few bytes broken: the decoder's deeper paths, not just byte 0."""
    raw = bytearray(message.to_bytes())
    for edit, where, byte in edits:
        at = where % (len(raw) + 1)
        if edit == "flip" and at < len(raw):
            raw[at] ^= byte or 0x80
        elif edit == "cut":
            del raw[at:]
        elif edit == "insert":
            raw.insert(at, byte)
        elif at < len(raw):
            del raw[at]
    decoded_or_plain_error(bytes(raw))


@FUZZ
@given(st.integers(0, 255).filter(lambda t: t & 0x1F != 0x1F), st.binary(max_size=24))
def test_any_value_decodes_to_a_value(tag: int, content: bytes) -> None:
    """Every one-octet tag (read_tlv refuses multi-octet ones before values are read)."""
    value = decode_value(tag, content)
    if isinstance(value, Undecodable):
        assert (value.tag, value.raw) == (tag, content)
        assert value.describe().startswith("a value that cannot be decoded (")
    else:
        assert tag == value.TAG
        assert decode_value(tag, value.content()) == value
    assert ber.read_tlv(value.to_bytes(), 0, len(value.to_bytes()), "v").tag == tag
