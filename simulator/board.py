"""The simulated copier board: the real firmware core on a pty, on the monotonic clock.

The host opens a stable symlink to the pty (as udev gives a real board a
/dev/serial/by-id name), so an unplug and replug keeps the path. Faults act on
the line as a real one would: unplugging (with or without the board losing
power), corrupting the next N bytes in either direction, freezing the host side
(its bytes stop reaching the board, as when the Pi hangs), and a noisy line set as
config (`LineFaults`: bytes changed, lost, split into pieces and delayed, order kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import tty
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.firmware.hal_sim import SimDevice
from simulator.line_faults import Direction, Line, LineFaults

PIECE_GAP_S = 0.001
"""Between the pieces of one split write, so the other side reads them apart."""


def _now_ms() -> int:
    return int(time.monotonic() * 1000)


class SimBoard:
    def __init__(self, link: Path, seed: int | None = None) -> None:
        self.link = link
        self.rng = random.Random(seed)
        self.device = SimDevice(_now_ms, self._to_host, seed=self.rng.getrandbits(32))
        self.plugged = False
        self.host_frozen = False
        self.corrupt = {"to_host": 0, "to_board": 0}
        self.line = Line()
        self._due: dict[Direction, float] = {"to_host": 0.0, "to_board": 0.0}
        self._generation = 0  # bumped on unplug: bytes still on their way are lost
        self._fds: tuple[int, int] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ----- life --------------------------------------------------------------------

    async def start(self) -> None:
        self.plug()
        self._task = asyncio.create_task(self._main_loop(), name="sim-board")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._unplug_line()

    async def _main_loop(self) -> None:
        """The firmware's main loop, woken by its next deadline or by input."""
        while True:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.device.next_wakeup_ms() / 1000)
            self.device.step()

    def plug(self) -> None:
        if self.plugged:
            return
        self.device.power_on()
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link)
        self._fds = (master, slave)
        asyncio.get_running_loop().add_reader(master, self._from_host)
        self.plugged = True

    def unplug(self, power_off: bool = True) -> None:
        """Pull the cable. Without power the board stops and boots fresh when plugged again."""
        self._unplug_line()
        if power_off:
            self.device.power_off()

    def _unplug_line(self) -> None:
        if self._fds is None:
            return
        master, slave = self._fds
        self._fds = None
        self.plugged = False
        self._generation += 1
        asyncio.get_running_loop().remove_reader(master)
        os.close(master)
        os.close(slave)
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()

    # ----- line --------------------------------------------------------------------

    def _damage(self, direction: str, data: bytes) -> bytes:
        n = min(self.corrupt[direction], len(data))
        if not n:
            return data
        self.corrupt[direction] -= n
        out = bytearray(data)
        for i in self.rng.sample(range(len(out)), n):
            out[i] ^= self.rng.randrange(1, 256)
        return bytes(out)

    def _from_host(self) -> None:
        assert self._fds is not None
        try:
            data = os.read(self._fds[0], 4096)
        except OSError:
            return  # the host closed its side; the board does not care
        if self.host_frozen or not data:
            return
        self._carry("to_board", self._damage("to_board", data), self._into_board)

    def _into_board(self, data: bytes) -> None:
        self.device.receive(data)
        self._wake.set()

    def _to_host(self, data: bytes) -> None:
        if self._fds is None or not self.device.powered:
            return
        self._carry("to_host", self._damage("to_host", data), self._write_host)

    def _write_host(self, data: bytes) -> None:
        if self._fds is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._fds[0], data)

    def set_line(self, faults: LineFaults) -> None:
        """The line's faults from now on (`LineFaults()`: a clean line)."""
        self.line.configure(faults)

    def _carry(self, direction: Direction, data: bytes,
               deliver: Callable[[bytes], None]) -> None:
        """Hand `data` to the other side through the line's faults, in order."""
        pieces = self.line.carry(direction, data)
        faulty = self.line.faults.active and self.line.faults.applies(direction)
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not faulty and self._due[direction] <= now:
            for _, piece in pieces:
                deliver(piece)
            return
        generation = self._generation
        for delay, piece in pieces:
            due = max(now + delay, self._due[direction] + PIECE_GAP_S)
            self._due[direction] = due
            loop.call_at(due, self._arrive, generation, deliver, piece)

    def _arrive(self, generation: int, deliver: Callable[[bytes], None], data: bytes) -> None:
        if generation == self._generation:
            deliver(data)

    # ----- the copier side ---------------------------------------------------------

    @property
    def relay_on(self) -> bool:
        return self.device.relay_on

    def set_pin(self, pin: int, level: int) -> None:
        self.device.set_pin(pin, level)
        self._wake.set()

    def state(self) -> dict[str, object]:
        board = self.device.board
        return {
            "path": str(self.link),
            "plugged": self.plugged,
            "powered": self.device.powered,
            "host_frozen": self.host_frozen,
            "line": self.line.state(),
            "relay": self.relay_on,
            "off_reason": board.off_reason,
            "boot_id": board.boot_id,
            "boots": self.device.boots,
            "session": board.session,
            "limit": board.limit,
            "used": board.used,
            "channels": [{"pin": c.pin, "pulses": c.pulses, "pages": c.pages}
                         for c in board.channels],
        }
