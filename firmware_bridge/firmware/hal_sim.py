"""A simulated board for CPython: clock, pins, UART, relay and watchdog around the core.

The clock is whatever callable the owner gives (a simulated one in tests and
benchmarks, the monotonic clock in the simulator), so the same `Board` runs
unchanged. A watchdog that is not fed in time reboots the board: a new `Board`
with a new boot id, reset cause "watchdog", relay off.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from firmware_bridge import protocol as p
from firmware_bridge.firmware.core import Board

WATCHDOG_MS = 2000


class SimClock:
    """Milliseconds that move only when told to."""

    def __init__(self, start: int = 0) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


class SimHal:
    """The hardware layer of `core.Board` on CPython."""

    def __init__(self, clock: Callable[[], int], write: Callable[[bytes], None],
                 rng: random.Random, reset_cause: int = p.RESET_POWER_ON) -> None:
        self.clock = clock
        self.write = write
        self.rng = rng
        self.cause = reset_cause
        self.relay_on = False
        self.relay_log: list[tuple[int, bool]] = []

    def ticks_ms(self) -> int:
        return self.clock()

    @staticmethod
    def ticks_add(t: int, ms: int) -> int:
        return t + ms

    @staticmethod
    def ticks_diff(a: int, b: int) -> int:
        return a - b

    def relay(self, on: bool) -> None:
        if on != self.relay_on or not self.relay_log:
            self.relay_log.append((self.clock(), on))
        self.relay_on = on

    def uart_write(self, data: bytes) -> None:
        self.write(bytes(data))

    def random_u32(self) -> int:
        return self.rng.getrandbits(32)

    def reset_cause(self) -> int:
        return self.cause


class SimDevice:
    """The board with its pins and watchdog, run by whoever owns the clock.

    `step(now)` is one pass of the firmware's main loop; `hung` stops the loop
    (and so the watchdog feeding) to show the watchdog's reset.
    """

    def __init__(self, clock: Callable[[], int], write: Callable[[bytes], None],
                 seed: int | None = None, watchdog_ms: int = WATCHDOG_MS) -> None:
        self.clock = clock
        self.write = write
        self.rng = random.Random(seed)
        self.watchdog_ms = watchdog_ms
        self.levels = [0] * p.CHANNELS
        self.hung = False
        self.powered = True
        self.boots = 0
        self.relay_log: list[tuple[int, bool]] = []
        self._boot(p.RESET_POWER_ON)

    def _boot(self, cause: int) -> None:
        self.hal = SimHal(self.clock, self.write, self.rng, cause)
        self.hal.relay_log = self.relay_log
        self.board = Board(self.hal)
        self.levels = [0] * p.CHANNELS
        self.fed_at = self.clock()
        self.boots += 1

    @property
    def relay_on(self) -> bool:
        return self.hal.relay_on

    def power_off(self) -> None:
        """Power gone: the normally-open relay contact opens, the core stops."""
        self.powered = False
        self.hal.relay(False)

    def power_on(self) -> None:
        if not self.powered:
            self.powered = True
            self._boot(p.RESET_POWER_ON)

    def receive(self, data: bytes) -> None:
        if self.powered and not self.hung:
            self.board.on_bytes(data)

    def set_pin(self, pin: int, level: int) -> None:
        """An input edge; the RP2040 delivers these by pin interrupt, which a hang does not stop."""
        if self.powered and self.levels[pin] != level:
            self.levels[pin] = level
            self.board.on_edge(pin, level, self.clock())

    def step(self) -> None:
        now = self.clock()
        if not self.powered:
            return
        if self.hung:
            if now - self.fed_at >= self.watchdog_ms:
                self.hung = False
                self._boot(p.RESET_WATCHDOG)
            return
        self.board.tick(now)
        self.fed_at = now

    def next_wakeup_ms(self) -> int:
        now = self.clock()
        if not self.powered:
            return 1000
        if self.hung:
            return max(self.watchdog_ms - (now - self.fed_at), 0)
        return self.board.next_wakeup_ms(now)
