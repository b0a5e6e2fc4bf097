"""Keyboard-wedge card readers over Linux evdev.

The reader types the card number followed by Enter. `KeyAssembler` turns key events into
card strings; an event source feeds it. In production the source is the input device,
grabbed exclusively so the digits never reach the panel as typing. In tests and in the
simulator it is a FIFO of recorded `struct input_event` records, decoded the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Protocol

import evdev
from evdev import ecodes

from drivers.readers import keymap
from drivers.readers.common import CardHandler, DuplicateFilter, ReaderUnplugged, keep_open

log = logging.getLogger("pagetally.readers.evdev")

RECORD = struct.Struct("llHHi")  # struct input_event on 64-bit Linux: 24 bytes


@dataclass
class WedgeSettings:
    """How one wedge reader types: its terminator keys, pacing and limits."""

    terminators: frozenset[int] = keymap.DEFAULT_TERMINATORS
    gap_s: float = 0.3
    duplicate_s: float = 2.0
    max_length: int = 64


@dataclass
class KeyAssembler:
    """Key events → card strings, using the events' own timestamps (deterministic, replayable).

    A pause longer than `gap_s` between keys discards the partial swipe. A swipe with a key
    the US layout cannot type, or longer than `max_length`, is discarded at its terminator.
    """

    settings: WedgeSettings = field(default_factory=WedgeSettings)
    _chars: list[str] = field(default_factory=list)
    _bad_code: int | None = None
    _overflow: bool = False
    _last_t: float | None = None
    _shifts: set[int] = field(default_factory=set)
    _dupes: DuplicateFilter = field(init=False)

    def __post_init__(self) -> None:
        self._dupes = DuplicateFilter(self.settings.duplicate_s)

    def reset(self) -> None:
        """Forget everything, for a freshly (re)opened device."""
        self._clear()
        self._shifts.clear()
        self._last_t = None
        self._dupes.reset()

    def feed(self, event: evdev.InputEvent) -> str | None:
        if event.type != ecodes.EV_KEY:
            return None  # EV_SYN / EV_MSC scan codes carry nothing we need
        if event.code in keymap.SHIFT_KEYS:
            if event.value:
                self._shifts.add(event.code)
            else:
                self._shifts.discard(event.code)
            return None
        if event.value != 1:
            return None  # key release or auto-repeat
        t = event.timestamp()
        self._check_gap(t)
        self._last_t = t
        if event.code in self.settings.terminators:
            return self._finish(t)
        char = keymap.char_for(event.code, bool(self._shifts))
        if char is None:
            self._bad_code = event.code
        elif len(self._chars) >= self.settings.max_length:
            self._overflow = True
        else:
            self._chars.append(char)
        return None

    def _pending(self) -> bool:
        return bool(self._chars) or self._bad_code is not None or self._overflow

    def _check_gap(self, t: float) -> None:
        if self._last_t is None or not self._pending():
            return
        gap = t - self._last_t
        if gap < 0 or gap > self.settings.gap_s:
            log.info("discarded a partial swipe of %d characters after a pause of %.2f s "
                     "between keys", len(self._chars), gap)
            self._clear()

    def _finish(self, t: float) -> str | None:
        card, bad, overflow = "".join(self._chars), self._bad_code, self._overflow
        self._clear()
        if bad is not None:
            log.warning("discarded a swipe containing key code %d, which the US keymap "
                        "cannot type", bad)
            return None
        if overflow:
            log.warning("discarded a swipe longer than %d characters",
                        self.settings.max_length)
            return None
        if not card:
            return None  # a lone Enter: nothing was swiped
        if not self._dupes.accept(card, t):
            log.debug("ignored a repeat read of the same card")
            return None
        return card

    def _clear(self) -> None:
        self._chars.clear()
        self._bad_code = None
        self._overflow = False


class RecordDecoder:
    """Bytes of recorded `struct input_event` records → events; keeps partial records."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[evdev.InputEvent]:
        self._buf += data
        whole = len(self._buf) - len(self._buf) % RECORD.size
        events = [evdev.InputEvent(*fields)
                  for fields in RECORD.iter_unpack(bytes(self._buf[:whole]))]
        del self._buf[:whole]
        return events


class EventSource(Protocol):
    """Where key events come from: raises OSError if it cannot open, calls `opened` once it
    has, and ends (or raises ReaderUnplugged) when the device goes away."""

    def events(self, opened: Callable[[], None]) -> AsyncGenerator[evdev.InputEvent, None]: ...


@dataclass
class DeviceSource:
    """A real input device, by its stable /dev/input/by-id/... path, grabbed exclusively."""

    path: str
    grab: bool = True

    async def events(self, opened: Callable[[], None]) -> AsyncGenerator[evdev.InputEvent, None]:
        device = evdev.InputDevice(self.path)
        try:
            if self.grab:
                device.grab()
            log.info("card reader %s (%s) is open", self.path, device.name)
            opened()
            try:
                async for event in device.async_read_loop():
                    yield event
            except OSError as exc:  # ENODEV when the device is unplugged
                raise ReaderUnplugged(exc.strerror or str(exc)) from exc
        finally:
            with contextlib.suppress(OSError):
                device.close()


@dataclass
class RecordSource:
    """A FIFO (or file) of recorded input_event records: the test and simulator stand-in.

    End of stream (the writer closed) is treated like an unplugged device.
    """

    path: str

    async def events(self, opened: Callable[[], None]) -> AsyncGenerator[evdev.InputEvent, None]:
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes] = asyncio.Queue()

        def readable() -> None:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
            chunks.put_nowait(data)

        loop.add_reader(fd, readable)
        log.info("card reader event stream %s is open", self.path)
        opened()
        decoder = RecordDecoder()
        try:
            while True:
                data = await chunks.get()
                if not data:
                    raise ReaderUnplugged("the event stream was closed by its writer")
                for event in decoder.feed(data):
                    yield event
        finally:
            loop.remove_reader(fd)
            os.close(fd)


class EvdevReader:
    """Run one wedge reader: read events, assemble cards, hand them on; reopen after unplug."""

    def __init__(self, name: str, source: EventSource, settings: WedgeSettings | None = None,
                 *, max_delay_s: float = 10.0) -> None:
        self.name = name
        self.source = source
        self.assembler = KeyAssembler(settings or WedgeSettings())
        self.max_delay_s = max_delay_s
        self.ready = asyncio.Event()  # set while the device is open

    async def run(self, on_card: CardHandler) -> None:
        await keep_open(self.name, lambda: self._session(on_card), max_delay_s=self.max_delay_s)

    async def _session(self, on_card: CardHandler) -> None:
        self.assembler.reset()
        stream = self.source.events(self.ready.set)
        try:
            async for event in stream:
                card = self.assembler.feed(event)
                if card is not None:
                    await on_card(card)
        finally:
            self.ready.clear()
            await stream.aclose()
