"""A fleet of light devices against Mosquitto, two central instances and PostgreSQL, all on
this machine: sustained txns a second, ack and auth latency, and each process's CPU.

What a realistic rate is. A busy university: 500 printers and copiers, at the peak of term
(the hour before a deadline) a busy device releases a job every 10-30 s, a quiet one every
few minutes; one job every 12.5 s on average over the whole fleet is the high end, so the
default steady rate is devices / 12.5 = 40 txns a second. A sign-in releases one or two
jobs, and some sign-ins release nothing (checking the balance, a wrong swipe): two auth
requests a minute per device, 17 a second for 500. Four in five sign in with a card (a
lookup), one in five with an access code (an argon2 check at central, by design slow).
Arrivals are random (Poisson), as many independent users make them.

Phases, one broker, one PostgreSQL, the same connected fleet throughout:
1. raw: no central; two echo clients on a shared subscription send every QoS 1 message
   straight back, each device keeping `--window` in flight: the most MQTT round trips this
   machine carries for this fleet, the reference for the ratio (the machine is noisy);
2. steady: `--rate` txns and `--auth-rate` auth requests a second over `--seconds`, into
   two `pagetally central serve` instances on one PostgreSQL;
3. burst: every device keeps `--window` txns in flight (auth requests go on at the steady
   rate): the sustained ceiling, and what sign-ins feel like meanwhile.
Each phase ends with a drain (every txn acked, every request answered; devices resend after
10 s as the agent's outbox does). At the end the ledger is counted by txn_id in PostgreSQL:
lost, duplicated and every balance checked. Rates and CPU are over each phase's measured
window (raw and burst: after a warm-up of up to 2 s that fills every device's window), CPU
per process group in % of one core (the machine has two).
Prints a table, then one JSON line with the figures last.
Run: .venv/bin/python -m bench.fleet [--devices 500] [--seconds 30] [--rate 40] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fleet_device import Tally
from bench.fleet_setup import (
    CpuMeter,
    Procs,
    audit,
    code_check_ms,
    seed_people,
    start_centrals,
    start_echoes,
    start_workers,
)
from bench.fleet_worker import Final, Phase, WorkerSpec
from tests.mosquitto import Mosquitto
from tests.postgres import start_server

SITE = "fleet"
LEAD_S = 0.5  # phases start this long after they are sent, on every worker at once


def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile; 0 for no samples."""
    if not xs:
        return 0.0
    ordered = sorted(xs)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def merge(tallies: list[Tally]) -> Tally:
    out = Tally(tallies[0].name, tallies[0].start, tallies[0].end)
    for t in tallies:
        for name in ("sent", "done_in_window", "auth_wrong", "auth_unanswered", "resends",
                     "duplicate_acks", "applied_twice", "rejected", "unacked", "disconnects"):
            setattr(out, name, getattr(out, name) + getattr(t, name))
        out.latencies_ms += t.latencies_ms
        for kind, ms in t.auth_ms.items():
            out.auth_ms[kind] += ms
    return out


def run_phase(workers: Procs, shares: list[float], meter: CpuMeter, **kw: Any
              ) -> dict[str, Any]:
    """One phase on every worker at once (each its share of the rates); figures and CPU."""
    start = time.monotonic() + LEAD_S
    phase = Phase(start_at=start, **kw)
    for conn, share in zip(workers.conns, shares, strict=True):
        conn.send(dataclasses.replace(phase, txn_rate=phase.txn_rate * share,
                                      auth_rate=phase.auth_rate * share))
    measured_from = start + phase.warmup_s
    time.sleep(max(0.0, measured_from - time.monotonic()))
    before = meter.sample()
    time.sleep(max(0.0, measured_from + phase.seconds - time.monotonic()))
    after = meter.sample()
    t = merge(workers.recv_all(phase.drain_s + 60, f"{phase.name} results"))
    auths = t.auth_ms["card"] + t.auth_ms["code"]
    return {
        "per_s": round(t.done_in_window / phase.seconds, 1), "sent": t.sent,
        "p50_ms": round(pct(t.latencies_ms, 0.5), 1), "p99_ms": round(pct(t.latencies_ms, 0.99), 1),
        "auths": len(auths), "auth_p50_ms": round(pct(auths, 0.5), 1),
        "auth_p99_ms": round(pct(auths, 0.99), 1),
        "auth_card_p99_ms": round(pct(t.auth_ms["card"], 0.99), 1),
        "auth_code_p99_ms": round(pct(t.auth_ms["code"], 0.99), 1),
        "auths_by": {kind: len(ms) for kind, ms in t.auth_ms.items()},
        "cpu_s": {k: round(after[k] - before[k], 2) for k in after},
        "cpu_pct": {k: round(100 * (after[k] - before[k]) / phase.seconds) for k in after},
        "checks": {k: getattr(t, k) for k in ("unacked", "applied_twice", "rejected",
                                              "auth_wrong", "auth_unanswered")},
        "resends": t.resends, "duplicate_acks": t.duplicate_acks,
        "disconnects": t.disconnects,
    }


def options(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.split("\n")[0])
    p.add_argument("--devices", type=int, default=500)
    p.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    p.add_argument("--rate", type=float, help="steady txns a second (default: devices / 12.5)")
    p.add_argument("--auth-rate", type=float,
                   help="auth requests a second (default: devices / 30)")
    p.add_argument("--code-share", type=float, default=0.2,
                   help="share of sign-ins by access code (the rest by card)")
    p.add_argument("--burst-seconds", type=float, default=20.0,
                   help="measured, after a warm-up of up to 2 s (as the raw phase)")
    p.add_argument("--raw-seconds", type=float, default=10.0)
    p.add_argument("--window", type=int, default=4,
                   help="in flight per device in the raw and burst phases")
    p.add_argument("--users", type=int, default=300)
    p.add_argument("--code-users", type=int, default=40, help="users who also have a code")
    p.add_argument("--centrals", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="load-generator processes")
    p.add_argument("--inflight", type=int, default=100, help="central's --max-inflight")
    p.add_argument("--quick", action="store_true", help="a tiny smoke run (about 20 s)")
    args = p.parse_args(argv)
    if args.quick:
        args.devices, args.seconds, args.burst_seconds, args.raw_seconds = 20, 2.0, 2.0, 1.0
        args.users, args.code_users = 20, 3
        args.rate = args.rate if args.rate is not None else 10.0  # a few of each kind
        args.auth_rate = args.auth_rate if args.auth_rate is not None else 5.0
    args.rate = args.rate if args.rate is not None else args.devices / 12.5
    args.auth_rate = args.auth_rate if args.auth_rate is not None else args.devices / 30
    return args


def specs(args: argparse.Namespace, port: int, people: tuple[Any, ...]) -> list[WorkerSpec]:
    names = [f"fl{i:04d}" for i in range(args.devices)]
    return [WorkerSpec(port, SITE, tuple(names[w::args.workers]), people, seed=w,
                       resend_after_s=10.0) for w in range(args.workers)]


def measure(args: argparse.Namespace, work: Path, stack: contextlib.ExitStack
            ) -> dict[str, Any]:
    pg = start_server(durable=True)  # fsync on, as in production
    stack.callback(pg.stop)
    names = tuple(n for s in specs(args, 0, ()) for n in s.devices)
    broker = Mosquitto(work / "broker", devices=names).start()
    stack.callback(broker.kill)
    url, secret = pg.new_database("fleet"), work / "ledger.secret"
    people = seed_people(url, secret, args.users, args.code_users)
    plan = specs(args, broker.port, people)
    workers = start_workers(plan)
    stack.callback(workers.stop)
    shares = [len(s.devices) / args.devices for s in plan]
    assert broker.proc is not None and pg.proc is not None
    loadgen = [os.getpid(), *workers.pids()]

    echoes = start_echoes(broker, args.centrals, args.inflight)
    stack.callback(echoes.stop)
    alone = frozenset([os.getpid()])  # the bench itself, not the children it started
    meter = CpuMeter({"mosquitto": [broker.proc.pid], "echo": echoes.pids(),
                      "loadgen": loadgen}, alone)
    warmup = min(2.0, args.raw_seconds / 2)
    raw = run_phase(workers, shares, meter, name="raw", seconds=args.raw_seconds,
                    warmup_s=warmup, window=args.window, raw=True, drain_s=20.0)
    echoes.stop()

    centrals = start_centrals(args.centrals, url, secret, broker, args.inflight)
    for child in centrals:
        stack.callback(child.stop)
    meter = CpuMeter({"mosquitto": [broker.proc.pid],
                      **{f"central-{n}": [c.proc.pid] for n, c in enumerate(centrals)},
                      "postgres": [pg.proc.pid], "loadgen": loadgen}, alone)
    auth = {"auth_rate": args.auth_rate, "code_share": args.code_share}
    steady = run_phase(workers, shares, meter, name="steady", seconds=args.seconds,
                       txn_rate=args.rate, **auth)
    burst = run_phase(workers, shares, meter, name="burst", seconds=args.burst_seconds,
                      warmup_s=warmup, window=args.window, **auth)
    for conn in workers.conns:
        conn.send(None)
    finals: list[Final] = workers.recv_all(60, "final report")
    sent = {k: v for f in finals for k, v in f.sent.items()}
    checked = audit(url, SITE, sent)
    return {"raw": raw, "steady": steady, "burst": burst, "audit": checked.__dict__,
            "applied_acks": sum(f.applied for f in finals),
            "code_check_ms": code_check_ms(secret)}


def report(args: argparse.Namespace, m: dict[str, Any], load: tuple[float, ...]) -> int:
    raw, steady, burst, a = m["raw"], m["steady"], m["burst"], m["audit"]
    checks = {k: steady["checks"][k] + burst["checks"][k] for k in steady["checks"]}
    checks["not_acked_applied"] = a["sent"] - m["applied_acks"]  # each once as applied
    resends = steady["resends"] + burst["resends"]
    duplicate_acks = steady["duplicate_acks"] + burst["duplicate_acks"]
    checks["unasked_duplicates"] = max(0, duplicate_acks - resends)  # only from resends
    loadgen_us = 1e6 * burst["cpu_s"]["loadgen"] / max(1, burst["sent"])
    ratio = round(burst["per_s"] / raw["per_s"], 3) if raw["per_s"] else 0.0
    figures = {
        "devices": args.devices, "users": args.users, "centrals": args.centrals,
        "workers": args.workers, "window": args.window, "load_avg": [round(x, 2) for x in load],
        "raw_per_s": raw["per_s"], "raw_rtt_p50_ms": raw["p50_ms"],
        "raw_rtt_p99_ms": raw["p99_ms"],
        "steady_rate": args.rate, "steady_txn_per_s": steady["per_s"],
        "steady_ack_p50_ms": steady["p50_ms"], "steady_ack_p99_ms": steady["p99_ms"],
        "steady_auth_p50_ms": steady["auth_p50_ms"], "steady_auth_p99_ms": steady["auth_p99_ms"],
        "steady_auth_card_p99_ms": steady["auth_card_p99_ms"],
        "steady_auth_code_p99_ms": steady["auth_code_p99_ms"],
        "steady_auths_by": steady["auths_by"], "code_check_ms": round(m["code_check_ms"], 1),
        "burst_txn_per_s": burst["per_s"], "burst_ack_p50_ms": burst["p50_ms"],
        "burst_ack_p99_ms": burst["p99_ms"], "burst_auth_p50_ms": burst["auth_p50_ms"],
        "burst_auth_p99_ms": burst["auth_p99_ms"], "ratio_burst_to_raw": ratio,
        "cpu_pct": {"raw": raw["cpu_pct"], "steady": steady["cpu_pct"],
                    "burst": burst["cpu_pct"]},
        "cpu_s": {"raw": raw["cpu_s"], "steady": steady["cpu_s"], "burst": burst["cpu_s"]},
        "sent": a["sent"], "held": a["held"], "applied_acks": m["applied_acks"],
        "lost": a["lost"], "duplicated": a["duplicated"], "unexpected": a["unexpected"],
        "money_off": a["money_off"], **checks,
        "auths": steady["auths"] + burst["auths"], "resends": resends,
        "duplicate_acks": duplicate_acks, "loadgen_us_per_txn": round(loadgen_us),
        "disconnects": steady["disconnects"] + burst["disconnects"],
    }
    print(f"fleet: {args.devices} devices, {args.users} users, {args.centrals} central"
          f" instances, PostgreSQL; load average {figures['load_avg']}")
    print(f"raw QoS 1 round trips  {raw['per_s']:9.0f} /s   rtt p50 {raw['p50_ms']} ms,"
          f" p99 {raw['p99_ms']} ms   (window {args.window})")
    for name, ph in (("steady", steady), ("burst", burst)):
        print(f"{name:7s} txns applied  {ph['per_s']:9.1f} /s   ack p50 {ph['p50_ms']} ms,"
              f" p99 {ph['p99_ms']} ms   auth p50 {ph['auth_p50_ms']} ms, p99"
              f" {ph['auth_p99_ms']} ms (card p99 {ph['auth_card_p99_ms']} of"
              f" {ph['auths_by']['card']}, code p99 {ph['auth_code_p99_ms']} of"
              f" {ph['auths_by']['code']})")
    print(f"one code check (argon2, as central's) {m['code_check_ms']:.0f} ms CPU, here")
    print(f"burst / raw            {ratio}")
    for name, ph in (("raw", raw), ("steady", steady), ("burst", burst)):
        print(f"CPU {name:6s} " + ", ".join(f"{k} {ph['cpu_s'][k]} s ({v}%)"
                                            for k, v in ph["cpu_pct"].items()))
    print(f"ledger: {a['sent']} sent, {a['held']} held; lost {a['lost']}, duplicated"
          f" {a['duplicated']}, unexpected {a['unexpected']}, balances off {a['money_off']};"
          f" resends {resends}, duplicate acks {duplicate_acks}")
    print(f"load generator         {loadgen_us:9.0f} us CPU a txn in the burst")
    print(json.dumps(figures), flush=True)
    bad = [a["lost"], a["duplicated"], a["unexpected"], a["money_off"], *checks.values()]
    return 0 if not any(bad) else 1


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp, \
            contextlib.ExitStack() as stack:
        load_before = os.getloadavg()
        measured = measure(args, Path(tmp), stack)
    return report(args, measured, load_before)


if __name__ == "__main__":
    sys.exit(main())
