"""Copier board: pulse counting, lease-lapse-to-relay-off latency, frame round trip.

1. 10,000 pulses on each of the 4 channels at 20 a second, and again at exactly the
   minimum pulse width, each train with a glitch one millisecond short of the minimum
   between pulses, run by the firmware core on the simulated clock: lost and extra pulses
   must both be 0.
2. Lease lapse → relay off over the pty, with the simulated board on the monotonic clock:
   the board's own deadline to its relay-off edge, and the host's view (ack of the
   enable + lease → report of relay off).
3. A READ frame's round trip over the pty through `BoardLink`, against the reference
   measured in the same run: a raw 60-byte echo over a pty on the same event loop.
Run: `python -m bench.copy [--pulses 10000] [--trials 30] [--round-trips 2000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import tty
from pathlib import Path

from firmware_bridge import protocol as p
from firmware_bridge.firmware.hal_sim import SimClock, SimDevice
from firmware_bridge.host import BoardLink
from firmware_bridge.messages import ChannelConfig, PageKind, Status
from simulator.board import SimBoard

MIN_PULSE_MS = 20  # 20 pulses a second leave room for a pulse and a glitch of 19 ms


def pulse_train(pulses: int, width_ms: int, period_ms: int) -> dict[str, int]:
    """Drive every channel with `pulses` pulses plus as many too-short glitches."""
    clock = SimClock(0)
    out = bytearray()
    dev = SimDevice(clock, out.extend, seed=1)
    for ch in range(p.CHANNELS):
        cfg = ChannelConfig(ch, ch, PageKind(ch), pulses_per_page=1, min_pulse_ms=MIN_PULSE_MS)
        dev.receive(p.encode(ch + 1, p.CONFIGURE, cfg.to_bytes()))
    glitch = MIN_PULSE_MS - 1
    assert period_ms >= width_ms + glitch + 3, "the train leaves no room for the glitch"
    for _ in range(pulses):
        for pin in range(p.CHANNELS):
            dev.set_pin(pin, 1)
        clock.now += width_ms
        for pin in range(p.CHANNELS):
            dev.set_pin(pin, 0)
        clock.now += 1
        for pin in range(p.CHANNELS):
            dev.set_pin(pin, 1)
        clock.now += glitch
        for pin in range(p.CHANNELS):
            dev.set_pin(pin, 0)
        clock.now += period_ms - width_ms - glitch - 1
        dev.step()
    dev.step()
    reports = [Status.from_bytes(pl) for _, k, pl in p.Decoder().feed(bytes(out)) if k == p.REPORT]
    counted = [c.pulses for c in reports[-1].channels]
    return {"lost": sum(max(pulses - c, 0) for c in counted),
            "extra": sum(max(c - pulses, 0) for c in counted),
            "counted_min": min(counted), "simulated_s": clock.now // 1000}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def lease_latency(board: SimBoard, link: BoardLink, trials: int) -> dict[str, float]:
    board_ms: list[float] = []
    host_ms: list[float] = []
    lease_s = 0.1
    for _ in range(trials):
        while not link.events.empty():
            link.events.get_nowait()
        await link.enable(limit=1000, lease_s=lease_s)
        acked = time.monotonic()
        deadline = board.device.board.deadline
        while True:
            ev = await link.events.get()
            if ev.status is not None and not ev.status.relay:
                break
        host_ms.append((time.monotonic() - acked - lease_s) * 1000)
        off_at = next(t for t, on in reversed(board.device.relay_log) if not on)
        board_ms.append(off_at - deadline)
    return {"board_p50_ms": pct(board_ms, 0.5), "board_p99_ms": pct(board_ms, 0.99),
            "host_p50_ms": pct(host_ms, 0.5), "host_p99_ms": pct(host_ms, 0.99)}


async def round_trips(link: BoardLink, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await link.read()
        times.append((time.perf_counter() - t0) * 1e6)
    return times


async def raw_echo(n: int) -> list[float]:
    """The reference: 60 bytes through a pty to an echoing reader and back, same loop."""
    loop = asyncio.get_running_loop()
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    os.set_blocking(slave, False)
    got: asyncio.Queue[bytes] = asyncio.Queue()
    loop.add_reader(master, lambda: os.write(master, os.read(master, 4096)))
    loop.add_reader(slave, lambda: got.put_nowait(os.read(slave, 4096)))
    payload = bytes(60)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(slave, payload)
            have = 0
            while have < len(payload):
                have += len(await got.get())
            times.append((time.perf_counter() - t0) * 1e6)
    finally:
        loop.remove_reader(master)
        loop.remove_reader(slave)
        os.close(master)
        os.close(slave)
    return times


async def over_pty(trials: int, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        board = SimBoard(Path(folder) / "copier-board", seed=5)
        await board.start()
        link = BoardLink(str(board.link))
        await link.open()
        await link.configure(ChannelConfig(0, 0))
        echo = await raw_echo(n)
        rtt = await round_trips(link, n)
        lease = await lease_latency(board, link, trials)
        await link.close()
        await board.stop()
    return {**lease, "rtt_p50_us": statistics.median(rtt), "rtt_p99_us": pct(rtt, 0.99),
            "echo_p50_us": statistics.median(echo), "echo_p99_us": pct(echo, 0.99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pulses", type=int, default=10_000)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--round-trips", type=int, default=2000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    at20 = pulse_train(args.pulses, width_ms=MIN_PULSE_MS + 5, period_ms=50)
    atmin = pulse_train(args.pulses, width_ms=MIN_PULSE_MS, period_ms=2 * MIN_PULSE_MS + 5)
    pulse_cpu = time.perf_counter() - t0
    pty = asyncio.run(over_pty(args.trials, args.round_trips))
    rows = [
        ("pulses at 20/s, 4 ch", f"{at20['counted_min']} of {args.pulses} each",
         f"lost {at20['lost']}, extra {at20['extra']} ({at20['simulated_s']} s simulated)"),
        (f"pulses at min width {MIN_PULSE_MS} ms", f"{atmin['counted_min']} of {args.pulses}",
         f"lost {atmin['lost']}, extra {atmin['extra']} ({atmin['simulated_s']} s simulated)"),
        ("lease lapse -> relay off, board", f"p50 {pty['board_p50_ms']:.1f} ms",
         f"p99 {pty['board_p99_ms']:.1f} ms"),
        ("lease lapse -> host sees off", f"p50 {pty['host_p50_ms']:.1f} ms",
         f"p99 {pty['host_p99_ms']:.1f} ms"),
        ("READ round trip over pty", f"p50 {pty['rtt_p50_us']:.0f} us",
         f"p99 {pty['rtt_p99_us']:.0f} us"),
        ("reference: raw pty echo", f"p50 {pty['echo_p50_us']:.0f} us",
         f"p99 {pty['echo_p99_us']:.0f} us"),
        ("ratio READ / echo", f"p50 {pty['rtt_p50_us'] / pty['echo_p50_us']:.1f}x",
         f"p99 {pty['rtt_p99_us'] / pty['echo_p99_us']:.1f}x"),
    ]
    for name, a, b in rows:
        print(f"{name:34} {a:24} {b}")
    print(json.dumps({"bench": "copy", "protocol": p.PROTOCOL_VERSION, "pulses": args.pulses,
                      "at_20_per_s": at20, "at_min_width": atmin,
                      "pulse_cpu_s": round(pulse_cpu, 2),
                      **{k: round(v, 2) for k, v in pty.items()},
                      "rtt_ratio_p50": round(pty["rtt_p50_us"] / pty["echo_p50_us"], 2)}))


if __name__ == "__main__":
    main()
