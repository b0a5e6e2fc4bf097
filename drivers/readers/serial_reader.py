"""Serial card readers (RS-232, USB-serial, TTL) on pyserial, driven by the event loop.

pyserial opens and configures the port (baud rate, 8N1, exclusive lock); the bytes are read
non-blocking from its file descriptor through `loop.add_reader`, so no thread is involved.
A vanished port (unplugged USB adapter, closed pty) is reopened by path with backoff; use a
stable /dev/serial/by-id/... path so the same reader is found again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

import serial

from drivers.readers.common import CardHandler, DuplicateFilter, ReaderUnplugged, keep_open
from drivers.readers.framing import Framer

log = logging.getLogger("pagetally.readers.serial")


class SerialReader:
    """Run one serial reader: frame its bytes into cards and hand them on."""

    def __init__(self, name: str, port: str, framer: Framer, *, baudrate: int = 9600,
                 duplicate_s: float = 2.0, max_delay_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.port = port
        self.framer = framer
        self.baudrate = baudrate
        self.max_delay_s = max_delay_s
        self.clock = clock
        self._dupes = DuplicateFilter(duplicate_s)
        self.ready = asyncio.Event()  # set while the port is open

    async def run(self, on_card: CardHandler) -> None:
        await keep_open(self.name, lambda: self._session(on_card), max_delay_s=self.max_delay_s)

    async def _session(self, on_card: CardHandler) -> None:
        port = serial.Serial(self.port, self.baudrate, timeout=0, exclusive=True)
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
        fd = port.fileno()

        def readable() -> None:
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                return
            except OSError:  # EIO: the other end of the line is gone
                data = b""
            if not data:
                loop.remove_reader(fd)
            chunks.put_nowait((data, self.clock()))

        self.framer.reset()
        self._dupes.reset()
        loop.add_reader(fd, readable)
        log.info("card reader %s is open on %s at %d baud", self.name, self.port, self.baudrate)
        self.ready.set()
        try:
            while True:
                data, now = await chunks.get()
                if not data:
                    raise ReaderUnplugged(f"{self.port} stopped answering")
                for card in self.framer.feed(data, now):
                    if self._dupes.accept(card, now):
                        await on_card(card)
                    else:
                        log.debug("ignored a repeat read of the same card on %s", self.name)
        finally:
            self.ready.clear()
            loop.remove_reader(fd)
            port.close()
