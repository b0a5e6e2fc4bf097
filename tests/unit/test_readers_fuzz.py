"""Fuzz both reader decoders: garbage never crashes them and never turns into a card."""

from __future__ import annotations

import itertools
import random
import re
import time
from functools import reduce

import evdev
from evdev import ecodes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.readers import keymap
from drivers.readers.evdev_reader import RECORD, KeyAssembler, RecordDecoder, WedgeSettings
from drivers.readers.framing import FixedFramer, LineFramer, StxEtxFramer, check
from simulator.readers import input_records

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPABLE = {c for pair in keymap.US_KEYMAP.values() for c in pair}
BODY = re.compile(rb"\x02([^\x02\x03]*)\x03")


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


# ---- evdev -------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=24 * 300), st.lists(st.integers(0, 10_000), max_size=8))
def test_random_event_bytes_never_crash_nor_invent(data: bytes, cuts: list[int]) -> None:
    settings_ = WedgeSettings(max_length=16)
    a, d = KeyAssembler(settings_), RecordDecoder()
    events = [e for chunk in _chunks(data, cuts) for e in d.feed(chunk)]
    assert len(events) == len(data) // RECORD.size
    cards = [c for e in events if (c := a.feed(e)) is not None]
    enters = sum(1 for e in events if e.type == ecodes.EV_KEY and e.value == 1
                 and e.code in settings_.terminators)
    assert len(cards) <= enters
    for card in cards:
        assert 0 < len(card) <= 16 and set(card) <= TYPABLE


invalid_codes = st.integers(0, 0xFFFF).filter(
    lambda c: c not in keymap.US_KEYMAP and c not in keymap.SHIFT_KEYS
    and c not in keymap.DEFAULT_TERMINATORS)


@FUZZ
@given(st.lists(st.tuples(st.text("0123456789ABCDEFabcdef", min_size=1, max_size=20),
                          st.none() | invalid_codes), min_size=1, max_size=10))
def test_invalid_key_codes_void_only_their_swipe(swipes: list[tuple[str, int | None]]) -> None:
    a = KeyAssembler(WedgeSettings(duplicate_s=0))
    t = 1000.0
    out: list[str] = []
    for card, bad in swipes:
        events = RecordDecoder().feed(input_records(card, start=t))
        if bad is not None:
            events.insert(len(events) // 2, evdev.InputEvent(int(t), 1, ecodes.EV_KEY, bad, 1))
        out += [c for e in events if (c := a.feed(e)) is not None]
        t += 1.0
    assert out == [card for card, bad in swipes if bad is None]


def test_megabyte_of_random_events_is_fast_and_bounded() -> None:
    rng = random.Random(7)
    data = rng.randbytes(1 << 20)
    a = KeyAssembler(WedgeSettings(max_length=32))
    start = time.perf_counter()
    cards = [c for e in RecordDecoder().feed(data) if (c := a.feed(e)) is not None]
    assert time.perf_counter() - start < 5.0
    assert all(len(c) <= 32 for c in cards)
    assert len(a._chars) <= 32


# ---- serial ------------------------------------------------------------------------------

def _oracle_stx(data: bytes, checksum: str, max_length: int) -> list[str]:
    out = []
    for body in BODY.findall(data):
        if len(body) > max_length:
            continue
        try:
            payload = check(body, checksum)  # type: ignore[arg-type]
        except ValueError:
            continue
        printable = bool(payload) and all(0x20 <= b < 0x7F for b in payload)
        if checksum.endswith("-hex") or printable:
            out.append(payload.decode())
    return out


def _valid_rdm(payload: bytes) -> bytes:
    cs = reduce(lambda x, y: x ^ y, payload, 0)
    return b"\x02" + payload.hex().upper().encode() + b"%02X\x03" % cs


frame_parts = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=5, max_size=5).map(_valid_rdm),
    st.binary(min_size=5, max_size=5).map(lambda p: _valid_rdm(p)[:-1]),   # no ETX
    st.binary(min_size=5, max_size=5).map(lambda p: _valid_rdm(p)[3:]),    # no STX
    st.sampled_from([b"\x02", b"\x03", b"\r", b"\n", b"\x02\x03"]),
)


@FUZZ
@given(st.lists(frame_parts, max_size=30), st.lists(st.integers(0, 5000), max_size=10),
       st.sampled_from(["none", "xor-hex", "xor", "lrc", "lrc-hex"]))
def test_stx_etx_outputs_exactly_the_valid_frames(parts: list[bytes], cuts: list[int],
                                                  checksum: str) -> None:
    data = b"".join(parts)
    f = StxEtxFramer(checksum=checksum, max_length=24, gap_s=None)  # type: ignore[arg-type]
    out = [c for chunk in _chunks(data, cuts) for c in f.feed(chunk, 0.0)]
    assert out == _oracle_stx(data, checksum, 24)
    assert len(f._buf) <= 24


@FUZZ
@given(st.binary(max_size=2000), st.lists(st.integers(0, 5000), max_size=10))
def test_lines_output_exactly_the_printable_terminated_lines(data: bytes,
                                                             cuts: list[int]) -> None:
    f = LineFramer(max_length=20, gap_s=None)
    out = [c for chunk in _chunks(data, cuts) for c in f.feed(chunk, 0.0)]
    lines = re.split(rb"[\r\n]", data)[:-1]
    expected = [ln.decode() for ln in lines if ln and len(ln) <= 20
                and all(0x20 <= b < 0x7F for b in ln)]
    assert out == expected


@FUZZ
@given(st.binary(max_size=500), st.integers(1, 12))
def test_fixed_frames_cover_every_whole_chunk(data: bytes, length: int) -> None:
    out = FixedFramer(length, payload="hex", gap_s=None).feed(data, 0.0)
    whole = len(data) // length
    assert out == [data[i * length:(i + 1) * length].hex().upper() for i in range(whole)]


def test_megabyte_of_serial_noise_gives_no_card_and_stays_small() -> None:
    rng = random.Random(11)
    data = rng.randbytes(1 << 20)
    f = StxEtxFramer(checksum="xor-hex", max_length=32, gap_s=None)
    start = time.perf_counter()
    out = [c for i in range(0, len(data), 4096) for c in f.feed(data[i:i + 4096], 0.0)]
    assert time.perf_counter() - start < 5.0
    assert out == _oracle_stx(data, "xor-hex", 32)
    assert len(f._buf) <= 32
