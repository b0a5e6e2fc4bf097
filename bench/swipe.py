"""Swipe-to-session latency over the pty path, against a bare pty round trip.

path:      simulated RDM6300 reader writes a frame into a pty → SerialReader (pyserial port,
           loop.add_reader) → STX/ETX + XOR framing → conversions → LocalAccounts.by_card →
           SessionManager.start
reference: the same pty, one write → one read through loop.add_reader, nothing else

Prints one JSON line last: p50/p95 of both in milliseconds and the ratio path/reference.
Run: .venv/bin/python -m bench.swipe [--swipes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
import tty
from pathlib import Path

from agent.identity.accounts import LocalAccounts
from agent.identity.login import LoginService
from agent.identity.readers import build, chain, parse_readers, run_readers
from agent.identity.session import SessionManager
from simulator.readers import SimSerialReader

CARDS = {"0F00BC614E": "0012345678", "0F000000FF": "0000000255"}


def _pcts(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49] * 1000, q[94] * 1000


async def reference(n: int) -> list[float]:
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(slave, False)
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[float] = asyncio.Queue()

    def readable() -> None:
        with contextlib.suppress(BlockingIOError):
            if os.read(slave, 4096):
                got.put_nowait(time.perf_counter())

    loop.add_reader(slave, readable)
    samples = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            os.write(master, b"\x020F00BC614E3C\x03")
            samples.append(await got.get() - start)
    finally:
        loop.remove_reader(slave)
        os.close(master)
        os.close(slave)
    return samples


async def swipe_path(n: int, folder: Path) -> list[float]:
    accounts = folder / "accounts.toml"
    accounts.write_text('[users.a]\ndisplay_name = "A"\nbalance = 100\ncards = ["0012345678"]\n'
                        '[users.b]\ndisplay_name = "B"\nbalance = 5\ncards = ["0000000255"]\n')
    sim = SimSerialReader("rdm6300")
    config = parse_readers([{"name": "bench", "kind": "serial", "path": sim.path,
                             "framing": "stx-etx", "checksum": "xor-hex", "duplicate_s": 0,
                             "conversions": ["regex:^..(.{8})$", "hex2dec:10"]}])[0]
    login = LoginService("bench", LocalAccounts(accounts), SessionManager("bench", 60.0),
                         chains={"bench": chain(config)})
    reader = build(config)
    done: asyncio.Queue[float] = asyncio.Queue()

    async def on_card(name: str, card: str) -> None:
        outcome = await login.card(name, card)
        if not outcome.ok:
            raise RuntimeError(f"bench swipe failed: {outcome.message}")
        done.put_nowait(time.perf_counter())

    task = asyncio.create_task(run_readers([reader], on_card))
    samples = []
    try:
        await asyncio.wait_for(reader.ready.wait(), 10)
        cards = list(CARDS)
        for i in range(n):
            start = time.perf_counter()
            sim.swipe(cards[i % 2])
            samples.append(await asyncio.wait_for(done.get(), 5) - start)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sim.close()
    return samples


async def main(n: int) -> dict[str, float | int]:
    ref = await reference(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = await swipe_path(n, Path(tmp))
    ref50, ref95 = _pcts(ref)
    p50, p95 = _pcts(path)
    return {"bench": "swipe", "swipes": n, "p50_ms": round(p50, 3), "p95_ms": round(p95, 3),
            "ref_pty_p50_ms": round(ref50, 3), "ref_pty_p95_ms": round(ref95, 3),
            "ratio_p50": round(p50 / ref50, 2), "ratio_p95": round(p95 / ref95, 2)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swipes", type=int, default=200)
    result = asyncio.run(main(parser.parse_args().swipes))
    print(json.dumps(result), flush=True)
