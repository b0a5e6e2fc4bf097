"""Serial card-reader framings: bytes in arbitrary chunks → validated card strings.

Supported: lines ended by CR and/or LF; STX (0x02) … ETX (0x03) frames with an optional
XOR or LRC checksum, binary or as two hex digits (RDM6300 style: STX, 10 hex digits,
2 hex digits of XOR over the 5 data bytes, ETX); and fixed-length frames. Payloads are
ASCII text or binary shown as upper-case hex. Every rejected frame leaves one log line.
"""

from __future__ import annotations

import binascii
import logging
from dataclasses import dataclass
from functools import reduce
from typing import Literal, Protocol

log = logging.getLogger("pagetally.readers.serial")

STX, ETX, CR, LF = 0x02, 0x03, 0x0D, 0x0A

Checksum = Literal["none", "xor", "xor-hex", "lrc", "lrc-hex"]
Payload = Literal["ascii", "hex"]


class FrameError(ValueError):
    """A frame that arrived whole but is not a card: the message says why."""


class Framer(Protocol):
    def feed(self, data: bytes, now: float) -> list[str]: ...

    def reset(self) -> None: ...


def _xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def _lrc(data: bytes) -> int:
    return (-sum(data)) & 0xFF


def render(payload: bytes, kind: Payload) -> str:
    """Payload bytes → card text: printable ASCII as is, or binary as upper-case hex."""
    if not payload:
        raise FrameError("the frame is empty")
    if kind == "hex":
        return payload.hex().upper()
    if not all(0x20 <= b < 0x7F for b in payload):
        raise FrameError("the frame holds bytes that are not printable text")
    return payload.decode("ascii")


def check(body: bytes, checksum: Checksum) -> bytes:
    """Verify and strip the checksum; return the payload bytes."""
    if checksum == "none":
        return body
    func = _xor if checksum.startswith("xor") else _lrc
    if checksum.endswith("-hex"):
        if len(body) < 4 or len(body) % 2:
            raise FrameError(f"the frame has {len(body)} characters; a hex frame with a "
                             "checksum needs an even number, at least 4")
        try:
            data = binascii.unhexlify(body)
        except binascii.Error as exc:
            raise FrameError("the frame holds characters that are not hex digits") from exc
        if func(data[:-1]) != data[-1]:
            raise FrameError(f"bad {checksum} checksum: frame says {data[-1]:02X}, "
                             f"data gives {func(data[:-1]):02X}")
        return body[:-2].upper()
    if len(body) < 2:
        raise FrameError("the frame is too short to hold a checksum")
    if func(body[:-1]) != body[-1]:
        raise FrameError(f"bad {checksum} checksum: frame says {body[-1]:02X}, "
                         f"data gives {func(body[:-1]):02X}")
    return body[:-1]


@dataclass
class _Partial:
    """Gap handling shared by the framers: silence mid-frame means the rest is lost."""

    gap_s: float | None
    last_t: float | None = None

    def stale(self, now: float, pending: bool) -> bool:
        stale = (pending and self.gap_s is not None and self.last_t is not None
                 and not 0.0 <= now - self.last_t <= self.gap_s)
        self.last_t = now
        return stale


class LineFramer:
    """Text lines ended by CR, LF or CR LF; empty lines are ignored."""

    def __init__(self, *, payload: Payload = "ascii", max_length: int = 64,
                 gap_s: float | None = 0.5) -> None:
        self.payload: Payload = payload
        self.max_length = max_length
        self._gap = _Partial(gap_s)
        self._buf = bytearray()
        self._overflow = False

    def reset(self) -> None:
        self._buf.clear()
        self._overflow = False

    def feed(self, data: bytes, now: float) -> list[str]:
        if self._gap.stale(now, bool(self._buf) or self._overflow):
            log.info("discarded a partial line of %d bytes after a pause", len(self._buf))
            self.reset()
        cards: list[str] = []
        for byte in data:
            if byte not in (CR, LF):
                if len(self._buf) < self.max_length:
                    self._buf.append(byte)
                else:
                    self._overflow = True
                continue
            if self._overflow:
                log.warning("discarded a line longer than %d bytes", self.max_length)
            elif self._buf:
                try:
                    cards.append(render(bytes(self._buf), self.payload))
                except FrameError as exc:
                    log.warning("discarded a line from the card reader: %s", exc)
            self.reset()
        return cards


class StxEtxFramer:
    """STX … ETX frames; bytes outside a frame are noise and skipped."""

    def __init__(self, *, checksum: Checksum = "none", payload: Payload = "ascii",
                 max_length: int = 64, gap_s: float | None = 0.5) -> None:
        self.checksum: Checksum = checksum
        self.payload: Payload = payload
        self.max_length = max_length
        self._gap = _Partial(gap_s)
        self._buf = bytearray()
        self._in_frame = False
        self._noise = 0

    def reset(self) -> None:
        self._buf.clear()
        self._in_frame = False

    def feed(self, data: bytes, now: float) -> list[str]:
        if self._gap.stale(now, self._in_frame):
            log.info("discarded a partial frame of %d bytes after a pause", len(self._buf))
            self.reset()
        cards: list[str] = []
        for byte in data:
            if byte == STX:
                if self._in_frame:
                    log.warning("a new frame started before the end of the last one; "
                                "dropped %d bytes", len(self._buf))
                elif self._noise:
                    log.info("skipped %d bytes of noise before a frame", self._noise)
                self._noise = 0
                self.reset()
                self._in_frame = True
            elif not self._in_frame:
                self._noise += 1
            elif byte == ETX:
                card = self._close()
                if card is not None:
                    cards.append(card)
            elif len(self._buf) >= self.max_length:
                log.warning("discarded a frame longer than %d bytes", self.max_length)
                self.reset()
            else:
                self._buf.append(byte)
        return cards

    def _close(self) -> str | None:
        body = bytes(self._buf)
        self.reset()
        try:
            payload = check(body, self.checksum)
            if self.checksum.endswith("-hex"):
                return payload.decode("ascii")
            return render(payload, self.payload)
        except FrameError as exc:
            log.warning("rejected a frame from the card reader: %s", exc)
            return None


class FixedFramer:
    """Frames of exactly `length` bytes, resynchronised by a pause between frames."""

    def __init__(self, length: int, *, payload: Payload = "hex",
                 gap_s: float | None = 0.1) -> None:
        if length < 1:
            raise ValueError("a fixed frame length must be at least 1 byte")
        self.length = length
        self.payload: Payload = payload
        self._gap = _Partial(gap_s)
        self._buf = bytearray()

    def reset(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes, now: float) -> list[str]:
        if self._gap.stale(now, bool(self._buf)):
            log.info("discarded a partial frame of %d bytes after a pause", len(self._buf))
            self.reset()
        cards: list[str] = []
        self._buf += data
        while len(self._buf) >= self.length:
            frame = bytes(self._buf[: self.length])
            del self._buf[: self.length]
            try:
                cards.append(render(frame, self.payload))
            except FrameError as exc:
                log.warning("rejected a frame from the card reader: %s", exc)
        return cards
