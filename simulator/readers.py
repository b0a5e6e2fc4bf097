"""Simulated card readers: a serial reader on a pty and a keyboard-wedge reader on a FIFO.

The agent opens them exactly as it opens real ones: the pty's slave path as a serial port,
and the FIFO as a stream of recorded `struct input_event` records. Frames and key events
are encoded here independently of drivers/readers, so the simulator also cross-checks the
decoders. POST /sim/swipe {"card": "...", "reader": "serial"|"evdev"} makes a swipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import struct
import tempfile
import time
import tty
from functools import reduce
from pathlib import Path
from typing import Literal

import msgspec
from aiohttp import web
from evdev import ecodes

Framing = Literal["rdm6300", "crlf", "lf", "stx-etx"]
RECORD = struct.Struct("llHHi")
_SYMBOLS = {"-": ("MINUS", False), "_": ("MINUS", True), "=": ("EQUAL", False),
            "+": ("EQUAL", True), ".": ("DOT", False), ",": ("COMMA", False),
            "/": ("SLASH", False), ";": ("SEMICOLON", False), ":": ("SEMICOLON", True),
            " ": ("SPACE", False), "*": ("8", True), "#": ("3", True), "%": ("5", True),
            "?": ("SLASH", True), "!": ("1", True), "@": ("2", True)}


class SimReaderError(Exception):
    """A swipe the simulated readers cannot make; the message says why."""


def serial_frame(card: str, framing: Framing) -> bytes:
    """The bytes a serial reader of the given kind sends for `card`."""
    if not card.isascii() or not card.isprintable():
        raise SimReaderError("a card number must be printable ASCII")
    if framing == "rdm6300":
        try:
            data = bytes.fromhex(card)
        except ValueError as exc:
            raise SimReaderError("an RDM6300 card number is 10 hex digits") from exc
        if len(data) != 5:
            raise SimReaderError("an RDM6300 card number is 10 hex digits")
        checksum = reduce(lambda a, b: a ^ b, data, 0)
        return b"\x02" + card.upper().encode() + f"{checksum:02X}".encode() + b"\x03"
    if framing == "stx-etx":
        return b"\x02" + card.encode() + b"\x03"
    return card.encode() + (b"\r\n" if framing == "crlf" else b"\n")


def key_strokes(card: str) -> list[tuple[int, bool]]:
    """(key code, shift) for each character, as a US-layout wedge reader types it."""
    strokes: list[tuple[int, bool]] = []
    for char in card:
        if char.isascii() and char.isalnum():
            name, shift = char.upper(), char.isupper()
        elif char in _SYMBOLS:
            name, shift = _SYMBOLS[char]
        else:
            raise SimReaderError(f"the simulated keyboard reader cannot type {char!r}")
        strokes.append((ecodes.ecodes[f"KEY_{name}"], shift))
    strokes.append((ecodes.KEY_ENTER, False))
    return strokes


def input_records(card: str, start: float, key_gap_s: float = 0.002) -> bytes:
    """Recorded input_event bytes for a swipe: MSC_SCAN, key down/up, SYN_REPORT."""
    out = bytearray()
    t = start

    def emit(kind: int, code: int, value: int) -> None:
        sec = int(t)
        out.extend(RECORD.pack(sec, int((t - sec) * 1e6), kind, code, value))

    def key(code: int, value: int) -> None:
        emit(ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code)
        emit(ecodes.EV_KEY, code, value)
        emit(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)

    for code, shift in key_strokes(card):
        if shift:
            key(ecodes.KEY_LEFTSHIFT, 1)
        key(code, 1)
        key(code, 0)
        if shift:
            key(ecodes.KEY_LEFTSHIFT, 0)
        t += key_gap_s
    return bytes(out)


class SimSerialReader:
    """A serial card reader: writes frames into a pty whose slave path the agent opens."""

    def __init__(self, framing: Framing = "rdm6300") -> None:
        self.framing: Framing = framing
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)

    def swipe(self, card: str, framing: Framing | None = None) -> None:
        data = serial_frame(card, framing or self.framing)
        try:
            written = os.write(self._master, data)
        except BlockingIOError:
            written = 0
        if written != len(data):
            raise SimReaderError("the serial line is full: nobody is reading the reader")

    def close(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class SimEvdevReader:
    """A keyboard-wedge reader: writes recorded input events into a FIFO."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                raise SimReaderError(f"no card reader is listening on {self.path}") from exc
        return self._fd

    async def swipe(self, card: str, timeout_s: float = 2.0) -> None:
        data = memoryview(input_records(card, time.time()))
        deadline = time.monotonic() + timeout_s
        retried = False
        while data:
            fd = self._open()
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SimReaderError("the evdev FIFO is full: nobody is reading it") \
                        from None
                await asyncio.sleep(0.005)
            except BrokenPipeError:
                self.close_writer()
                if retried:
                    raise SimReaderError(f"the reader on {self.path} went away") from None
                retried = True

    def close_writer(self) -> None:
        """Close our end: the reader sees end of stream, like an unplugged device."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


class SimReaders:
    def __init__(self, serial_framing: Framing = "rdm6300") -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="pagetally-sim-readers-"))
        self.serial = SimSerialReader(serial_framing)
        self.evdev = SimEvdevReader(self._dir / "evdev-reader.fifo")

    def paths(self) -> dict[str, str]:
        return {"serial": self.serial.path, "serial_framing": self.serial.framing,
                "evdev": str(self.evdev.path)}

    async def swipe(self, card: str, reader: Literal["serial", "evdev"],
                    framing: Framing | None = None) -> None:
        if reader == "serial":
            self.serial.swipe(card, framing)
        else:
            await self.evdev.swipe(card)

    def close(self) -> None:
        self.serial.close()
        self.evdev.close_writer()
        shutil.rmtree(self._dir, ignore_errors=True)


class SwipeBody(msgspec.Struct, forbid_unknown_fields=True):
    card: str
    reader: Literal["serial", "evdev"] = "serial"
    framing: Framing | None = None


def add_routes(app: web.Application, readers: SimReaders) -> None:
    """Register /sim/swipe and /sim/readers; call before control.add_routes (its catch-all)."""

    async def swipe(request: web.Request) -> web.Response:
        """Swipe a card on a simulated reader: {"card": "...", "reader": "serial"|"evdev"}."""
        try:
            body = msgspec.json.decode(await request.read() or b"{}", type=SwipeBody)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return web.json_response({"error": f"invalid request: {exc}"}, status=400)
        try:
            await readers.swipe(body.card, body.reader, body.framing)
        except SimReaderError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"ok": True})

    async def paths(request: web.Request) -> web.Response:
        """Where the simulated card readers are: the serial pty and the evdev FIFO."""
        return web.json_response(readers.paths())

    async def announce(app: web.Application) -> None:
        print(f"Card readers:   {json.dumps(readers.paths())}", flush=True)

    async def cleanup(app: web.Application) -> None:
        readers.close()

    app.router.add_post("/sim/swipe", swipe)
    app.router.add_get("/sim/readers", paths)
    app.on_startup.append(announce)
    app.on_cleanup.append(cleanup)
