"""The printer poller against the simulator: a reading asked for soon does not wait for the
cadence, and still begins SETTLE_S after the one before it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from agent.metering.poller import SETTLE_S, PrinterPoller
from agent.metering.probe import DeviceProbe
from drivers.ipp.client import IppClient
from drivers.snmp import SnmpReader, load_profile
from tests.helpers import SimHandle

HOUR = 3600.0


async def test_a_reading_asked_for_soon_comes_before_the_cadence(sim: SimHandle) -> None:
    snmp = SnmpReader(sim.snmp_host, sim.snmp_port, profile=load_profile("pagetally-sim"),
                      timeout=1.0)
    async with IppClient(sim.ipp) as ipp:
        poller = PrinterPoller(DeviceProbe(ipp, snmp), fast_s=HOUR, slow_s=HOUR)
        task = asyncio.create_task(poller.run())
        try:
            # With an hour's cadence, only `soon` can bring these within the deadline.
            readings = [await asyncio.wait_for(poller.next(soon=True), 10) for _ in range(4)]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            snmp.close()
    starts = [r.at for r in readings]
    assert all(b - a >= SETTLE_S * 0.99 for a, b in itertools.pairwise(starts))
    assert [r.snmp_life for r in readings] == [0, 0, 0, 0]
    assert {r.printer_state for r in readings} == {"idle"}
