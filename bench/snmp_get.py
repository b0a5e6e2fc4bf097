"""SNMP GET latency of prtMarkerLifeCount, three ways, measured in the same run.

- reader:  our SnmpReader.life_count() (our BER codec and asyncio UDP client, one socket)
- snmpget: net-snmp's snmpget, one process per GET (what a shell script would pay)
- raw_udp: one pre-encoded GET datagram and its answer: the agent plus loopback alone

The ratios reader/raw_udp (client overhead) and snmpget/reader are what to watch.
Run: `python -m bench.snmp_get` (starts its own simulator) or `--port P` for a running one.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from drivers.snmp import SnmpReader, load_profile
from drivers.snmp.message import Message, Version, get_request

LIFE_OID = "1.3.6.1.2.1.43.10.2.1.4.1.1"
WARMUP = 5


@dataclass(frozen=True)
class LatencyStats:
    """Per-GET latency in milliseconds."""

    n: int
    mean_ms: float
    median_ms: float
    p95_ms: float
    min_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> LatencyStats:
        ms = sorted(s * 1000 for s in seconds)
        return cls(len(ms), statistics.fmean(ms), statistics.median(ms),
                   ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], ms[0])


async def _timed(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    for _ in range(WARMUP):
        await call()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def _reader_times(host: str, port: int, n: int, community: str) -> list[float]:
    reader = SnmpReader(host, port, community=community, profile=load_profile("generic"))
    try:
        async def get() -> None:
            if await reader.life_count() is None:
                raise RuntimeError(f"SNMP GET failed: {reader.last_problem}")
        return await _timed(get, n)
    finally:
        reader.close()


def _raw_request(community: str) -> bytes:
    """One SNMP v2c GET of prtMarkerLifeCount.1.1, BER-encoded once."""
    oid = tuple(int(arc) for arc in LIFE_OID.split("."))
    return Message(Version.V2C, community.encode(), get_request(1, [oid])).to_bytes()


def _raw_times(host: str, port: int, n: int, community: str) -> list[float]:
    request = _raw_request(community)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        sock.connect((host, port))
        times = []
        for i in range(WARMUP + n):
            started = time.perf_counter()
            sock.send(request)
            sock.recv(65535)
            if i >= WARMUP:
                times.append(time.perf_counter() - started)
    return times


def _snmpget_times(host: str, port: int, n: int, community: str) -> list[float]:
    cmd = ["snmpget", "-v2c", "-c", community, "-Oqv", "-t", "2", "-r", "0",
           f"{host}:{port}", LIFE_OID]
    times = []
    for i in range(WARMUP + n):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=10)
        if i >= WARMUP:
            times.append(time.perf_counter() - started)
    return times


def measure_snmp(host: str, port: int, n: int = 200, community: str = "public"
                 ) -> dict[str, LatencyStats]:
    """Latency of n GETs each way; blocking (runs its own event loop for the reader)."""
    return {
        "reader": LatencyStats.of(asyncio.run(_reader_times(host, port, n, community))),
        "snmpget": LatencyStats.of(_snmpget_times(host, port, max(n // 4, 10), community)),
        "raw_udp": LatencyStats.of(_raw_times(host, port, n, community)),
    }


def report(stats: dict[str, LatencyStats]) -> str:
    lines = [f"{'method':8} {'n':>5} {'mean':>8} {'median':>8} {'p95':>8} {'min':>8}  (ms)"]
    for name, s in stats.items():
        lines.append(f"{name:8} {s.n:5d} {s.mean_ms:8.3f} {s.median_ms:8.3f} "
                     f"{s.p95_ms:8.3f} {s.min_ms:8.3f}")
    reader, raw, cli = stats["reader"], stats["raw_udp"], stats["snmpget"]
    lines.append(f"reader / raw_udp (client overhead): {reader.median_ms / raw.median_ms:.2f}x")
    lines.append(f"snmpget process / reader:          {cli.median_ms / reader.median_ms:.2f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="SNMP port of a running agent; "
                        "without it a simulator is started")
    parser.add_argument("-n", type=int, default=300, help="GETs per method")
    parser.add_argument("--community", default="public")
    args = parser.parse_args()
    if args.port is not None:
        print(report(measure_snmp(args.host, args.port, args.n, args.community)))
        return
    from tests.helpers import start_sim  # the benchmark's own simulator, as the tests start it

    sim = start_sim()
    try:
        print(report(measure_snmp(sim.snmp_host, sim.snmp_port, args.n, args.community)))
    finally:
        sim.child.stop()


if __name__ == "__main__":
    main()
