"""Serial framings: lines, STX/ETX with checksums, fixed length."""

from __future__ import annotations

import logging

import pytest

from drivers.readers.framing import FixedFramer, LineFramer, StxEtxFramer
from simulator.readers import serial_frame


def test_rdm6300_frame_with_xor_hex_checksum() -> None:
    f = StxEtxFramer(checksum="xor-hex")
    frame = serial_frame("0F00A1B2C3", "rdm6300")
    assert frame == b"\x020F00A1B2C3" + b"%02X" % (0x0F ^ 0x00 ^ 0xA1 ^ 0xB2 ^ 0xC3) + b"\x03"
    assert f.feed(frame, 0.0) == ["0F00A1B2C3"]


def test_lowercase_hex_payload_is_upper_cased() -> None:
    assert StxEtxFramer(checksum="xor-hex").feed(b"\x020f00a1b2c3df\x03", 0.0) == ["0F00A1B2C3"]


def test_bad_checksum_rejected_with_log(caplog: pytest.LogCaptureFixture) -> None:
    frame = bytearray(serial_frame("0F00A1B2C3", "rdm6300"))
    frame[-2:-1] = b"0" if frame[-2:-1] != b"0" else b"1"
    with caplog.at_level(logging.WARNING):
        assert StxEtxFramer(checksum="xor-hex").feed(bytes(frame), 0.0) == []
    assert "bad xor-hex checksum" in caplog.text


def test_noise_before_stx_skipped_and_split_frame_joined() -> None:
    f = StxEtxFramer(checksum="xor-hex")
    frame = serial_frame("1234567890", "rdm6300")
    out = f.feed(b"\xff\x00garbage" + frame[:5], 0.0) + f.feed(frame[5:], 0.1)
    assert out == ["1234567890"]


def test_restart_inside_frame_and_overlong(caplog: pytest.LogCaptureFixture) -> None:
    f = StxEtxFramer(max_length=16)
    with caplog.at_level(logging.WARNING):
        assert f.feed(b"\x02ABC\x02DEF\x03", 0.0) == ["DEF"]
        assert f.feed(b"\x02" + b"X" * 40 + b"\x03\x02OK\x03", 0.0) == ["OK"]
    assert "new frame started" in caplog.text
    assert "longer than 16 bytes" in caplog.text


def test_binary_xor_and_lrc_checksums_with_hex_payload() -> None:
    data = bytes([0x12, 0x34, 0xAB])
    xor = 0x12 ^ 0x34 ^ 0xAB
    lrc = (-(0x12 + 0x34 + 0xAB)) & 0xFF
    assert StxEtxFramer(checksum="xor", payload="hex").feed(
        b"\x02" + data + bytes([xor]) + b"\x03", 0) == ["1234AB"]
    assert StxEtxFramer(checksum="lrc", payload="hex").feed(
        b"\x02" + data + bytes([lrc]) + b"\x03", 0) == ["1234AB"]
    assert StxEtxFramer(checksum="lrc", payload="hex").feed(
        b"\x02" + data + bytes([lrc ^ 1]) + b"\x03", 0) == []


def test_lrc_hex() -> None:
    lrc = (-(0x10 + 0x20)) & 0xFF
    assert StxEtxFramer(checksum="lrc-hex").feed(b"\x021020%02X\x03" % lrc, 0) == ["1020"]


def test_partial_frame_dropped_after_pause() -> None:
    f = StxEtxFramer(gap_s=0.5)
    assert f.feed(b"\x02HALF", 0.0) == []
    assert f.feed(b"\x03\x02NEW\x03", 2.0) == ["NEW"]


def test_lines_cr_lf_crlf_and_overlong(caplog: pytest.LogCaptureFixture) -> None:
    f = LineFramer(max_length=10)
    assert f.feed(b"123\r\n456\r789\n\n", 0.0) == ["123", "456", "789"]
    with caplog.at_level(logging.WARNING):
        assert f.feed(b"X" * 50 + b"\r\nA1\r\n", 0.0) == ["A1"]
        assert f.feed(b"\x01\x02\r", 0.0) == []
    assert "longer than 10 bytes" in caplog.text
    assert "not printable text" in caplog.text


def test_fixed_length_frames_and_gap_resync() -> None:
    f = FixedFramer(4, payload="hex", gap_s=0.1)
    assert f.feed(b"\x01\x02\x03\x04\x05", 0.0) == ["01020304"]
    assert f.feed(b"\xaa\xbb\xcc\xdd", 1.0) == ["AABBCCDD"]  # stale 0x05 dropped
    ascii_f = FixedFramer(3, payload="ascii")
    assert ascii_f.feed(b"ab", 0.0) + ascii_f.feed(b"cdef", 0.01) == ["abc", "def"]
