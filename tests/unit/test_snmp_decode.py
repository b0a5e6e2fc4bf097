"""Printer-MIB decoders: error-state bits, counters, enums, text and alert rows."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from drivers.snmp.decode import (
    ERROR_STATE_BITS,
    PRINTER_STATUS,
    Alert,
    decode_alerts,
    decode_counter,
    decode_enum,
    decode_error_state,
    decode_text,
)
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
    TimeTicks,
    Undecodable,
)
from simulator.snmp_mib import ERROR_BITS, error_state

ENTRY = (1, 3, 6, 1, 2, 1, 43, 18, 1, 1)


def reference_bits(raw: bytes) -> frozenset[str]:
    """Bit 0 is the MSB of the first octet: read the octets as one big-endian bit string."""
    bits = "".join(f"{octet:08b}" for octet in raw)
    return frozenset(name for n, name in enumerate(ERROR_STATE_BITS)
                     if n < len(bits) and bits[n] == "1")


def test_error_state_known_vectors() -> None:
    assert decode_error_state(b"") == frozenset()
    assert decode_error_state(b"\x00\x00") == frozenset()
    assert decode_error_state(b"\x80") == {"lowPaper"}
    assert decode_error_state(b"\x04") == {"jammed"}
    assert decode_error_state(b"\x24\x00") == {"lowToner", "jammed"}
    assert decode_error_state(b"\x40\x04") == {"noPaper", "inputTrayEmpty"}
    assert decode_error_state(b"\x00\x02") == {"overduePreventMaint"}
    assert decode_error_state(b"\x00\x01\xff") == frozenset()  # unassigned bits ignored


def test_error_state_agrees_with_the_simulator_encoder() -> None:
    expected = {"jammed": "jammed", "paper_out": "noPaper", "toner_low": "lowToner",
                "offline": "offline"}
    for size in range(len(ERROR_BITS) + 1):
        for faults in itertools.combinations(ERROR_BITS, size):
            raw = error_state(list(faults))
            assert decode_error_state(raw) == {expected[f] for f in faults}


@given(st.binary(max_size=12))
def test_error_state_fuzz_matches_reference(raw: bytes) -> None:
    assert decode_error_state(raw) == reference_bits(raw)


@given(st.sets(st.sampled_from(ERROR_STATE_BITS)), st.integers(min_value=2, max_value=4))
def test_error_state_round_trip(names: set[str], octets: int) -> None:
    mask = 0
    for name in names:
        mask |= 1 << (octets * 8 - 1 - ERROR_STATE_BITS.index(name))
    assert decode_error_state(mask.to_bytes(octets, "big")) == names


def test_counter_accepts_counter_types() -> None:
    assert decode_counter(Counter32(1234), "c", 32) == (1234, None)
    assert decode_counter(Counter32(2**32 - 1), "c", 32) == (2**32 - 1, None)
    assert decode_counter(Gauge32(7), "c", 32) == (7, None)
    assert decode_counter(Integer(0), "c", 32) == (0, None)
    assert decode_counter(Counter64(2**40), "c", 64) == (2**40, None)


def test_counter_unknowns_say_why() -> None:
    value, why = decode_counter(Integer(-2), "its page counter", 32)
    assert value is None and why == "printer reports its page counter as unknown (-2)"
    value, why = decode_counter(Integer(-1), "its page counter", 32)
    assert value is None and "-1, which is not a page count" in str(why)
    value, why = decode_counter(Counter64(2**40), "its page counter", 32)
    assert value is None and "larger than a 32-bit counter" in str(why)
    value, why = decode_counter(OctetString(b"\xff\x00junk"), "its page counter", 32)
    assert value is None
    assert why == "printer answered its page counter with text instead of a number"
    value, why = decode_counter(NoSuchInstance(), "its page counter", 32)
    assert value is None and why == "printer does not have its page counter"
    value, why = decode_counter(ObjectIdentifier((1, 3)), "x", 32)
    assert value is None and "an object identifier" in str(why)


@given(st.binary(max_size=64))
def test_counter_garbage_is_never_a_number(raw: bytes) -> None:
    value, why = decode_counter(OctetString(raw), "its page counter", 32)
    assert value is None and why is not None


def test_enum_and_text() -> None:
    assert decode_enum(Integer(3), PRINTER_STATUS, "status") == ("idle", None)
    assert decode_enum(Integer(9), PRINTER_STATUS, "status") == (
        None, "printer reports status as 9, which is not a known value")
    assert decode_enum(OctetString(b"x"), PRINTER_STATUS, "status")[0] is None
    assert decode_text(OctetString(b"Ready\x00 ")) == "Ready"
    assert decode_text(OctetString(b"Caf\xe9")) == "Caf\ufffd"
    assert decode_text(NoSuchObject()) is None
    assert decode_text(Integer(1)) is None
    assert decode_text(None) is None


def _row(index: int, severity: object, group: object, code: object, text: object
         ) -> list[tuple[tuple[int, ...], object]]:
    return [((*ENTRY, col, 1, index), value)
            for col, value in ((2, severity), (4, group), (7, code), (8, text))]


def test_alert_rows_decode_in_index_order() -> None:
    rows = [
        *_row(7, Integer(4), Integer(11), Integer(1104),
              OctetString(b"Toner low")),
        *_row(2, Integer(3), Integer(13), Integer(8),
              OctetString(b"Jam")),
        ((*ENTRY, 9, 1, 2), TimeTicks(100)),  # a column we do not read
        ((1, 3, 6, 1, 2, 1, 43, 19, 1), Integer(1)),  # outside the table
        ((*ENTRY, 2), Integer(1)),  # no row index
    ]
    assert decode_alerts(rows, ENTRY) == (
        Alert("critical", "mediaPath", "jam", "Jam"),
        Alert("warning", "markerSupplies", "markerTonerAlmostEmpty", "Toner low"),
    )


def test_alert_rows_with_garbage_cells_keep_the_row() -> None:
    rows = [*_row(1, OctetString(b"??"), Integer(99),
                  Integer(4242), Integer(5))]
    rows.append(((*ENTRY, 7, 1, 3), Integer(808)))  # a row with only a code
    assert decode_alerts(rows, ENTRY) == (
        Alert("unknown", "code 99", "code 4242", ""),
        Alert("unknown", "unknown", "inputMediaSupplyEmpty", ""),
    )


_values = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1).map(Integer),
    st.binary(max_size=40).map(OctetString),
    st.just(NoSuchInstance()),
    st.just(EndOfMibView()),
)


@given(st.lists(st.tuples(st.lists(st.integers(0, 2**16), max_size=4), _values), max_size=30))
def test_alert_decoder_fuzz_never_raises(cells: list[tuple[list[int], object]]) -> None:
    rows = [((*ENTRY, *suffix), value) for suffix, value in cells]
    alerts = decode_alerts(rows, ENTRY)
    indices = {tuple(s[1:]) for s, _ in cells if len(s) >= 2}
    assert len(alerts) == len(indices)
    assert all(isinstance(a.description, str) for a in alerts)


def test_wrong_types_are_named_in_plain_words() -> None:
    """What a printer sent instead, as the reason of a typed 'wrong type' unknown."""
    cases = [
        (Null(), "an empty value (NULL)"),
        (IpAddress(b"\x0a\x00\x00\x01"), "an IP address"),
        (NoSuchObject(), "nothing (no such object)"),
        (EndOfMibView(), "nothing (end of its MIB)"),
        (Undecodable(0x41, b"\xff", "a Counter32 encoded as a negative number (-1)"),
         "a value that cannot be decoded (a Counter32 encoded as a negative number (-1))"),
    ]
    for value, words in cases:
        _, why = decode_counter(value, "its page counter", 32)
        if value in (NoSuchObject(), EndOfMibView()):
            assert why == "printer does not have its page counter"
        else:
            assert why == f"printer answered its page counter with {words} instead of a number"
    assert decode_enum(OctetString(b"3"), PRINTER_STATUS, "its printer status") == (
        None, "printer answered its printer status with text instead of a number")


def test_only_octet_strings_are_text_or_bytes() -> None:
    for value in (Null(), IpAddress(b"\x01\x02\x03\x04"), Integer(5), NoSuchInstance()):
        assert decode_text(value) is None
    assert decode_text(OctetString(b"")) == ""
