"""The one reader of a printer, as Home Assistant's coordinator is for a device.

Metering and the panel's printer view used to read the device each on their own clock, so
a busy printer answered two pollers. Now one task reads it: fast while a job is followed,
slow at idle, and hands every reading to its listeners (the printer view, which feeds the
panel and the retained `printer` topic) and to whoever waits for the next one (metering).
The pre-release snapshot is not taken here: it is read as a pair, on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

from agent.metering.probe import DeviceProbe, Reading

log = logging.getLogger("pagetally.metering")


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

    async def next(self) -> Reading:
        """The first reading begun after this call: newer than anything the caller saw. It
        comes at the poller's cadence; asking does not make the poller read sooner."""
        want = self._begun + 1
        async with self._done:
            await self._done.wait_for(lambda: self._finished >= want)
        assert self.latest is not None
        return self.latest

    async def run(self) -> None:
        while True:
            self._wake.clear()
            self._begun += 1
            reading = await self.probe.read()
            self.latest, self._finished = reading, self._begun
            async with self._done:
                self._done.notify_all()
            for listener in self._listeners:
                listener(reading)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       self.fast_s if self._busy else self.slow_s)
