"""The simulator's copier through /sim/board: copies only while the board enables it, and
its pages reach the device counters (SNMP prtMarkerLifeCount read with net-snmp's snmpget)."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp

from firmware_bridge.host import BoardLink
from firmware_bridge.messages import ChannelConfig, OffReason, PageKind
from simulator.app import running_simulator
from simulator.config import SimConfig

LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"


def snmp_life_count(endpoint: str) -> int:
    host_port = endpoint.removeprefix("udp://")
    out = subprocess.run(["snmpget", "-v2c", "-c", "public", "-Oqv", host_port, LIFE_COUNT],
                         capture_output=True, text=True, timeout=20, check=True)
    return int(out.stdout.strip())


async def test_copier_obeys_the_board_and_advances_the_counters() -> None:
    config = SimConfig(http_port=0, snmp_port=0, ppm=1200, warmup_s=0)
    async with running_simulator(config) as (engine, endpoints), aiohttp.ClientSession() as http:
        base = endpoints.control
        async with http.get(base + "board") as r:
            state = await r.json()
        async with http.post(base + "board/copy", json={"pages": 2}) as r:
            refused = await r.json()
        assert refused == {"asked": 2, "copied": 0, "refused": 2}  # "insert key counter"

        link = BoardLink(state["path"])
        await link.open()
        await link.configure(ChannelConfig(0, 0, PageKind.MONO, min_pulse_ms=30))
        await link.configure(ChannelConfig(1, 1, PageKind.COLOUR, min_pulse_ms=30, weight=2))
        start = await link.enable(limit=4, lease_s=10)
        life_before = await asyncio.to_thread(snmp_life_count, endpoints.snmp)
        async with http.post(base + "board/copy", json={"pages": 1, "size": "A3"}) as r:
            assert (await r.json())["copied"] == 1  # two pulses: 2 units of 4
        async with http.post(base + "board/copy", json={"pages": 5, "color": True}) as r:
            run = await r.json()
        assert run == {"asked": 5, "copied": 1, "refused": 4}  # colour weighs 2: limit hit
        status = await link.read()
        assert not status.relay and status.off_reason == OffReason.LIMIT
        assert status.pages_since(start, 0) == 2 and status.pages_since(start, 1) == 1
        for _ in range(100):  # the engine marks at its own pace (1200 ppm)
            life_after = await asyncio.to_thread(snmp_life_count, endpoints.snmp)
            if life_after - life_before >= 2:
                break
            await asyncio.sleep(0.1)
        assert life_after - life_before == 2  # the device marked 2 sheets
        assert engine.counters.true_total == 2
        await link.close()

        async with http.post(base + "board/copy", json={"pages": 0}) as r:
            assert r.status == 400 and "at least 1 page" in (await r.json())["error"]
