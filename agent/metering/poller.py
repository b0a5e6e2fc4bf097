"""The one reader of a printer, as Home Assistant's coordinator is for a device.

Metering and the panel's printer view used to read the device each on their own clock, so
a busy printer answered two pollers. Now one task reads it: fast while a job is followed,
slow at idle, and hands every reading to its listeners (the printer view, which feeds the
panel and the retained `printer` topic) and to whoever waits for the next one (metering).
The pre-release snapshot is not taken here: it is read as a pair, on demand.

When a followed job has ended, metering asks for its next readings `soon`: they begin
SETTLE_S after the last one began rather than a whole cadence after it ended, so the end is
confirmed in a few hundredths of a second instead of a few tenths. Each is still a full
reading, and at most a few are asked for per job, so the printer sees a short burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from agent.metering.probe import DeviceProbe, Reading

log = logging.getLogger("pagetally.metering")

SETTLE_S = 0.05
"""Least time from one reading's start to the next one's when asked `soon`: two readings that
agree are then at least this far apart, never the same answer read twice."""


class PrinterPoller:
    def __init__(self, probe: DeviceProbe, *, fast_s: float, slow_s: float) -> None:
        self.probe = probe
        self.fast_s = fast_s
        self.slow_s = slow_s
        self.latest: Reading | None = None
        self._listeners: list[Callable[[Reading], None]] = []
        self._busy = 0
        self._wake = asyncio.Event()
        self._done = asyncio.Condition()
        self._begun = self._finished = 0
        self._soon = False
        self._ended = 0.0

    def listen(self, callback: Callable[[Reading], None]) -> None:
        """Call `callback` with every reading, from the poller's task."""
        self._listeners.append(callback)

    @contextlib.contextmanager
    def fast(self) -> Iterator[None]:
        """Read at the fast cadence while inside (a job is being followed)."""
        self._busy += 1
        self._wake.set()
        try:
            yield
        finally:
            self._busy -= 1

    async def next(self, soon: bool = False) -> Reading:
        """The first reading begun after this call: newer than anything the caller saw. It
        comes at the poller's cadence, or with `soon` SETTLE_S after the last one began
        (a job has ended and metering is waiting to see its counters stand still)."""
        want = self._begun + 1
        if soon:
            self._soon = True
            self._wake.set()
        async with self._done:
            await self._done.wait_for(lambda: self._finished >= want)
        assert self.latest is not None
        return self.latest

    async def midway(self) -> None:
        """Until halfway from the last reading to the next at the fast cadence. Metering asks
        about the job there, so between them the printer and the job are looked at twice a
        cadence, and a job's end is seen in half the time, with no more requests."""
        await asyncio.sleep(max(0.0, self._ended + self.fast_s / 2 - time.monotonic()))

    async def run(self) -> None:
        while True:
            self._wake.clear()
            self._soon = False
            self._begun += 1
            began = time.monotonic()
            reading = await self.probe.read()
            self.latest, self._finished = reading, self._begun
            self._ended = time.monotonic()
            async with self._done:
                self._done.notify_all()
            for listener in self._listeners:
                listener(reading)
            await self._rest(began)

    async def _rest(self, began: float) -> None:
        """Until the next reading is due: the cadence after this one ended, cut short when a
        reading is asked for `soon` (then SETTLE_S after this one began)."""
        if not self._soon:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       self.fast_s if self._busy else self.slow_s)
        if self._soon:
            await asyncio.sleep(max(0.0, began + SETTLE_S - time.monotonic()))
