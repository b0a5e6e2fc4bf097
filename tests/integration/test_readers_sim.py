"""The simulator's card readers over its HTTP control API, read by the real reader drivers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from agent.identity.readers import build, parse_readers, run_readers
from simulator.readers import SimReaders, add_routes
from tests.helpers import free_port


@pytest.fixture
async def sim() -> AsyncIterator[tuple[str, SimReaders]]:
    readers = SimReaders("rdm6300")
    app = web.Application()
    add_routes(app, readers)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", readers
    await runner.cleanup()


async def test_swipes_through_control_api(sim: tuple[str, SimReaders]) -> None:
    base, _ = sim
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/sim/readers") as resp:
            paths = await resp.json()
        assert paths["serial"].startswith("/dev/pts/") and paths["serial_framing"] == "rdm6300"
        async with http.post(f"{base}/sim/swipe", json={"card": "1", "reader": "evdev"}) as r:
            assert r.status == 409
            assert "no card reader is listening on" in (await r.json())["error"]

        readers = [build(c) for c in parse_readers([
            {"name": "rfid", "kind": "serial", "path": paths["serial"],
             "framing": "stx-etx", "checksum": "xor-hex"},
            {"name": "wedge", "kind": "evdev-fifo", "path": paths["evdev"]},
        ])]
        cards: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

        async def on_card(reader: str, card: str) -> None:
            cards.put_nowait((reader, card))

        task = asyncio.create_task(run_readers(readers, on_card))
        try:
            for reader in readers:
                await asyncio.wait_for(reader.ready.wait(), 5)
            for body in ({"card": "0f00bc614e", "reader": "serial"},
                         {"card": "Staff#042", "reader": "evdev"}):
                async with http.post(f"{base}/sim/swipe", json=body) as r:
                    assert r.status == 200, await r.text()
            got = {await asyncio.wait_for(cards.get(), 5) for _ in range(2)}
            assert got == {("rfid", "0F00BC614E"), ("wedge", "Staff#042")}
            async with http.post(f"{base}/sim/swipe",
                                 json={"card": "nothex", "reader": "serial"}) as r:
                assert (r.status, await r.json()) == \
                    (409, {"error": "an RDM6300 card number is 10 hex digits"})
            async with http.post(f"{base}/sim/swipe", json={"reader": "serial"}) as r:
                assert r.status == 400
                assert "invalid request" in (await r.json())["error"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
