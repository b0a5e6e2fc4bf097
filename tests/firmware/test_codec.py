"""Frame codec: golden bytes, the CRC against an independent one, and fuzzing of the decoder."""

from __future__ import annotations

import binascii
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge import protocol as p
from firmware_bridge.messages import ChannelConfig, Identity, PageKind, ResetCause, Status

GOLDEN = [
    ((5, p.READ, b""), "7e 00 05 06 53 af 7e"),
    ((0x7E, p.ENABLE, p.pack_enable(20, 30000)),
     "7e 08 7e 03 14 00 00 00 30 75 00 00 90 78 7e"),
    ((1, p.IDENTIFY, p.pack_identify()), "7e 01 01 01 01 e6 54 7e"),
    ((9, p.NAK, p.pack_nak(4, 6)), "7e 02 09 83 04 06 68 f0 7e"),
    ((200, p.REPORT, p.pack_status(0xDEADBEEF, 1000, 1, 0, 3, 20, 2,
                                   [(2**32 - 1, 7), (0, 0), (1, 1), (2, 2)])),
     "7e 34 c8 84 ef be ad de e8 03 00 00 01 00 03 00 14 00 00 00 02 00 00 00"
     " ff ff ff ff 07 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00"
     " 02 00 00 00 02 00 00 00 78 b5 7e"),
]


def test_crc_check_value_and_independent_implementation() -> None:
    assert p.crc16(b"123456789") == 0x29B1
    rnd = random.Random(7)
    for _ in range(200):
        data = rnd.randbytes(rnd.randrange(0, 70))
        assert p.crc16(data) == binascii.crc_hqx(data, 0xFFFF)


@pytest.mark.parametrize(("args", "hexbytes"), GOLDEN)
def test_golden_bytes_encode_and_decode(args: tuple[int, int, bytes], hexbytes: str) -> None:
    wire = bytes.fromhex(hexbytes)
    assert p.encode(*args) == wire
    assert p.Decoder().feed(wire) == [args]


def test_status_round_trip_through_typed_view() -> None:
    raw = GOLDEN[4][0][2]
    status = Status.from_bytes(raw)
    assert status.boot_id == 0xDEADBEEF and status.relay and status.session == 3
    assert status.channels[0].pulses == 2**32 - 1 and status.channels[0].pages == 7
    assert status.to_bytes() == raw


def test_wrapped_counter_delta() -> None:
    before = Status.from_bytes(p.pack_status(1, 0, 1, 0, 1, 9, 0,
                                             [(0, 2**32 - 2)] + [(0, 0)] * 3))
    after = Status.from_bytes(p.pack_status(1, 5, 1, 0, 1, 9, 3, [(0, 1)] + [(0, 0)] * 3))
    assert after.pages_since(before, 0) == 3
    other_boot = Status.from_bytes(p.pack_status(2, 5, 0, 1, 0, 0, 0, [(0, 0)] * 4))
    with pytest.raises(ValueError, match="two boots"):
        other_boot.pages_since(before, 0)


def test_typed_identity_and_config_round_trip() -> None:
    ident = Identity(1, (0, 1, 0), 0x01020304, ResetCause.WATCHDOG, 4)
    assert Identity.from_bytes(ident.to_bytes()) == ident
    cfg = ChannelConfig(2, 3, PageKind.COLOUR_LARGE, 2, 50, 120, active_low=True)
    assert ChannelConfig.from_bytes(cfg.to_bytes()) == cfg


def test_encode_refuses_wrong_payload() -> None:
    with pytest.raises(ValueError, match="wrong payload length"):
        p.encode(0, p.ENABLE, b"\x00")
    with pytest.raises(ValueError, match="unknown message type"):
        p.encode(0, 0x42, b"")


def test_split_at_every_byte_gives_the_same_frames() -> None:
    wire = b"".join(p.encode(*args) for args, _ in GOLDEN)
    for cut in range(len(wire) + 1):
        dec = p.Decoder()
        got = dec.feed(wire[:cut]) + dec.feed(wire[cut:])
        assert got == [args for args, _ in GOLDEN]
    dec = p.Decoder()
    assert [f for b in wire for f in dec.feed(bytes([b]))] == [a for a, _ in GOLDEN]


def test_garbage_between_frames_is_skipped() -> None:
    frame = p.encode(3, p.READ)
    wire = b"\x7e\x7e\x00\x7e\x01" + frame + b"\x7e\x3b\xff" + frame
    dec = p.Decoder()
    assert dec.feed(wire) == [(3, p.READ, b"")] * 2
    assert dec.skipped >= 5


# ----- fuzzing -----------------------------------------------------------------------
# Each hypothesis example drives the decoder over 50 byte streams (the stream and 49
# mutations of it), so 2,000 examples are 100,000 decoder cases, plus 26,000 of noise;
# derandomized so CI always runs the same cases. Hypothesis itself costs far more time
# per example than the decoder does per stream, hence the inner loop.

frames_st = st.lists(
    st.sampled_from(sorted(p.PAYLOAD_LEN)).flatmap(
        lambda kind: st.tuples(st.integers(0, 255), st.just(kind),
                               st.binary(min_size=p.PAYLOAD_LEN[kind],
                                         max_size=p.PAYLOAD_LEN[kind]))),
    min_size=1, max_size=4)

FUZZ = settings(max_examples=2_000, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def _mutations(wire: bytes, rnd: random.Random) -> list[tuple[str, bytes]]:
    out = [("intact", wire)]
    for _ in range(18):
        i = rnd.randrange(len(wire))
        flipped = bytearray(wire)
        flipped[i] ^= rnd.randrange(1, 256)
        out.append(("flip", bytes(flipped)))
    for _ in range(18):
        i = rnd.randrange(len(wire))
        out.append(("drop", wire[:i] + wire[i + 1:]))
    for _ in range(12):
        i = rnd.randrange(len(wire) + 1)
        out.append(("insert", wire[:i] + bytes([rnd.choice([0x7E, rnd.randrange(256)])])
                    + wire[i:]))
    return out


@FUZZ
@given(frames=frames_st, seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 70))
def test_fuzz_damaged_streams_give_only_real_frames(
        frames: list[tuple[int, int, bytes]], seed: int, chunk: int) -> None:
    wire = b"".join(p.encode(*f) for f in frames)
    rnd = random.Random(seed)
    cases = _mutations(wire, rnd)
    assert len(cases) == 49
    for how, data in cases:
        dec = p.Decoder()
        got = []
        for i in range(0, len(data), chunk):
            got += dec.feed(data[i:i + chunk])
        if how == "intact":
            assert got == frames
        else:
            # A damaged byte loses at most its own frame: nothing else, nothing invented.
            assert all(f in frames for f in got), (how, data.hex())
            assert len(got) >= len(frames) - 1 - (how == "insert")


@FUZZ
@given(noise=st.binary(max_size=200), seed=st.integers(0, 2**32 - 1))
def test_fuzz_noise_gives_no_frame(noise: bytes, seed: int) -> None:
    rnd = random.Random(seed)
    blobs = [noise] + [bytes(rnd.choice((0x7E, rnd.randrange(256))) for _ in
                             range(rnd.randrange(200))) for _ in range(12)]
    for blob in blobs:
        dec = p.Decoder()
        assert dec.feed(blob) == []
        assert len(dec.buf) <= p.OVERHEAD + p.MAX_PAYLOAD
        # The decoder recovers: a real frame after the noise is found.
        frame = p.encode(1, p.READ)
        assert (1, p.READ, b"") in dec.feed(frame * 2)
