"""Outbox sync through a real Mosquitto to `pagetally central serve`: throughput and latency.

Phases, all on one broker and one central:
1. raw: paho QoS 1 publish-to-receive throughput (one publisher, one subscriber), the
   ceiling any MQTT pipeline on this machine can reach;
2. live: the agent's OutboxSender + CentralLink connected while a producer writes `--txns`
   adjustments into a real agent Ledger (each its own commit, as metering writes them);
   applied per second (first publish to last ack) and, with everything queued at once, ack
   latency under saturation (first publish to the ack being committed in the agent's ledger);
3. steady: `--rate` txns a second for `--seconds`, each written in its own commit and the
   outbox kicked, as metering does; ack latency from the write's commit to the ack's commit
   in the agent's ledger, p50 and p99 (goal p99 <= 50 ms at 100/s);
4. backlog: `--backlog` txns written while the agent is offline, then drained after it
   connects.

The agent speaks contract v1.2: its status announces `ack_batch`, so central answers each
commit with one AckBatch, and central's status announces `txn_batch`, so the txns due at
once go out up to `--txn-batch` a message. `--v1-acks` and `--txn-batch 1` turn each off,
the reference for what batching buys.

Every txn is -1 cent, so central's balances count applications: `lost` is agent txns that
central does not hold, `duplicated` is applications beyond one per txn.
Prints a table, then one JSON line with the figures last.
Run: .venv/bin/python -m bench.sync [--txns 20000] [--backlog 100000] [--store postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import psutil
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from agent.config_models import MqttConfig
from agent.ledger import Ledger
from agent.sync.link import CentralLink, LinkSettings
from agent.sync.outbox import Ack, OutboxSender
from central import admin
from central.storage.ledger import SqlLedger
from contract import StatusPayload, encode
from tests.helpers import BIN, ROOT, Child, spawn
from tests.mosquitto import CENTRAL_USER, OBSERVER_USER, Mosquitto, password_of
from tests.postgres import start_server

SITE, DEVICE = "bench", "bench-1"
USERS = [f"user{i}" for i in range(10)]
START = 10**9
RATIO_GOAL, BACKLOG_GOAL, P99_GOAL_MS = 0.8, 10_000.0, 50.0


class _Id(msgspec.Struct):
    txn_id: str


class _Ids(msgspec.Struct):
    txns: list[_Id]


class TimedLink(CentralLink):
    """A CentralLink that notes when each txn was first published (for ack latency)."""

    def __init__(self, settings: LinkSettings, *, ack_batch: bool = True) -> None:
        super().__init__(settings)
        self.first_sent: dict[str, float] = {}
        self.messages = 0  # txn and txns messages published
        self.ack_batch = ack_batch

    def _status(self, online: bool) -> bytes:
        if self.ack_batch:
            return super()._status(online)
        return encode(StatusPayload(online=online, version="bench-v1",
                                    since=dt.datetime.now(dt.UTC)))

    def publish_nowait(self, kind: str, payload: bytes, *, qos: int = 1) -> None:
        now = time.monotonic()
        if kind == "txn":
            self.first_sent.setdefault(msgspec.json.decode(payload, type=_Id).txn_id, now)
        elif kind == "txns":
            for txn in msgspec.json.decode(payload, type=_Ids).txns:
                self.first_sent.setdefault(txn.txn_id, now)
        if kind in ("txn", "txns"):
            self.messages += 1
        super().publish_nowait(kind, payload, qos=qos)


def _client(user: str, inflight: int) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5,
                    client_id=f"bench-raw-{user}")
    c.username_pw_set(user, password_of(user))
    c.max_inflight_messages_set(inflight)
    c.on_socket_open = lambda _c, _u, s: s.setsockopt(6, 1, 1)  # TCP_NODELAY
    return c


def raw_paho(broker: Mosquitto, n: int, inflight: int) -> float:
    """Messages per second from the first publish to the last one received, QoS 1 both ways."""
    topic = f"pagetally/v1/{SITE}/{DEVICE}/printer"
    got = threading.Event()
    count = 0
    subscribed = threading.Event()

    def on_message(_c: mqtt.Client, _u: Any, _m: mqtt.MQTTMessage) -> None:
        nonlocal count
        count += 1
        if count == n:
            got.set()

    sub = _client(OBSERVER_USER, inflight)
    sub.on_message = on_message
    sub.on_subscribe = lambda *_: subscribed.set()
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    sub.subscribe(topic, qos=1)
    subscribed.wait(5)
    pub = _client(DEVICE, inflight)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    payload = b'{"status":"idle","counters":{"total":123456}}' * 4  # about a txn's size
    started = time.monotonic()
    for _ in range(n):
        pub.publish(topic, payload, qos=1)
    if not got.wait(120):
        raise TimeoutError(f"raw paho: only {count} of {n} messages arrived")
    elapsed = time.monotonic() - started
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    return n / elapsed


def start_central(workdir: Path, db: str, broker: Mosquitto, batch_max: int,
                  inflight: int) -> Child:
    ledger = SqlLedger(db)
    try:
        for user in USERS:
            admin.add_user(ledger, user, user, START, restricted=False, credit_limit=0,
                           groups=[])
    finally:
        ledger.close()
    pw = workdir / "central.pw"
    pw.write_text(password_of(CENTRAL_USER))
    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = spawn([str(BIN / "pagetally"), "central", "serve", "--db", db,
                   "--secret-file", str(workdir / "central.secret"),
                   "--mqtt-port", str(broker.port), "--username", CENTRAL_USER,
                   "--password-file", str(pw), "--batch-max", str(batch_max),
                   "--max-inflight", str(inflight)], env=env)
    child.wait_line("READY ")
    return child


class Agent:
    """The agent's sync half on a real ledger: link, outbox sender, ack timestamps."""

    def __init__(self, ledger: Ledger, broker: Mosquitto, window: int, inflight: int,
                 ack_batch: bool, txn_batch: int) -> None:
        self.ledger = ledger
        self.link = TimedLink(LinkSettings("127.0.0.1", broker.port, SITE, DEVICE,
                                           DEVICE, password_of(DEVICE), backoff_min_s=0.05,
                                           backoff_max_s=0.5, max_inflight=inflight),
                              ack_batch=ack_batch)
        self.acked_at: dict[str, float] = {}
        self.all_acked = asyncio.Event()
        self.expected = 0
        self.outbox = OutboxSender(ledger, self.link, window=window, batch=txn_batch,
                                   resend_after_s=30.0, on_acks=self._acked)

    def _acked(self, acks: list[Ack]) -> None:
        now = time.monotonic()
        for txn_id, _, _ in acks:
            self.acked_at.setdefault(txn_id, now)
        if len(self.acked_at) >= self.expected:
            self.all_acked.set()

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        tasks = [asyncio.create_task(c) for c in (self.link.run(), self.outbox.run(),
                                                   self.outbox.run_acks())]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _write(ledger: Ledger, n: int, note: str) -> list[str]:
    return [ledger.add_adjustment(USERS[i % len(USERS)], -1, note).txn_id for i in range(n)]


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        out[name] = times.user + times.system
    return out


async def live_phase(agent: Agent, n: int, pids: dict[str, int]) -> dict[str, Any]:
    """`n` txns already in the outbox, the link connected: send until every one is acked."""
    ids = _write(agent.ledger, n, "live")
    agent.expected = n
    async with agent.running():
        await asyncio.wait_for(agent.link.connected.wait(), 10)
        started, cpu = time.monotonic(), _cpu(pids)
        await asyncio.wait_for(agent.all_acked.wait(), 300)
        elapsed = time.monotonic() - started
        busy = {k: round(100 * (v - cpu[k]) / elapsed) for k, v in _cpu(pids).items()}
    latencies = sorted((agent.acked_at[i] - agent.link.first_sent[i]) * 1000 for i in ids)
    return {"applied_per_s": n / elapsed, "ack_p50_ms": statistics.median(latencies),
            "ack_p99_ms": latencies[int(len(latencies) * 0.99) - 1], "cpu_pct": busy,
            "txns_per_message": n / max(1, agent.link.messages)}


async def steady_phase(agent: Agent, rate: float, seconds: float) -> dict[str, float]:
    """`rate` txns a second, each its own commit then a kick, as metering writes them;
    latency from the commit to the ack's commit in the agent's ledger."""
    n = round(rate * seconds)
    agent.expected = len(agent.acked_at) + n
    agent.all_acked.clear()
    written: dict[str, float] = {}
    async with agent.running():
        await asyncio.wait_for(agent.link.connected.wait(), 10)
        started = time.monotonic()
        for i in range(n):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            txn = await asyncio.to_thread(agent.ledger.add_adjustment,
                                          USERS[i % len(USERS)], -1, "steady")
            written[txn.txn_id] = time.monotonic()
            agent.outbox.kick()
        await asyncio.wait_for(agent.all_acked.wait(), 60)
        achieved = n / (time.monotonic() - started)
    latencies = sorted((agent.acked_at[i] - t) * 1000 for i, t in written.items())
    return {"rate_per_s": achieved, "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)], "n": n}


async def backlog_phase(agent: Agent, n: int) -> dict[str, float]:
    """The terminal was offline (its link down; broker and central up) while `n` txns piled
    up: time from its reconnect to the last ack. (Stopping the broker instead would time
    central's own reconnect backoff too, up to 5 s, not the drain.)"""
    agent.expected = len(agent.acked_at) + n
    agent.all_acked.clear()
    await asyncio.to_thread(_write, agent.ledger, n, "backlog")
    connects: list[float] = []
    agent.link.on_connect(lambda: connects.append(time.monotonic()))
    async with agent.running():
        await asyncio.wait_for(agent.all_acked.wait(), 600)
        drained = time.monotonic() - connects[0]
    return {"drain_per_s": n / drained, "drain_s": drained}


async def all_phases(agent: Agent, broker: Mosquitto, args: argparse.Namespace,
                     pids: dict[str, int]) -> dict[str, dict[str, Any]]:
    """One event loop for every phase (the link's asyncio objects belong to it)."""
    live = await live_phase(agent, args.txns, pids)
    steady = await steady_phase(agent, args.rate, args.seconds) if args.seconds else {}
    backlog = await backlog_phase(agent, args.backlog) if args.backlog else {}
    return {"live": live, "steady": steady, "backlog": backlog}


def audit(db: str, ledger: Ledger) -> tuple[int, int]:
    """(lost, duplicated): agent txns missing at central; applications beyond one each."""
    mine = {t.txn_id: t.user for t in ledger.txns()}
    central = SqlLedger(db)
    try:
        held = {r.txn_id for r in central.all_transactions() if r.device == DEVICE}
        applied = sum(START - a.balance for a in central.accounts())  # every txn is -1
    finally:
        central.close()
    lost = len(set(mine) - held)
    return lost, applied - len(held & set(mine))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n")[0])
    p.add_argument("--txns", type=int, default=20_000)
    p.add_argument("--backlog", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=100.0, help="txns a second, steady phase")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the steady phase")
    p.add_argument("--v1-acks", action="store_true",
                   help="the agent announces contract v1: one ack message per txn")
    p.add_argument("--txn-batch", type=int, default=100,
                   help="most txns per `txns` message (contract v1.2); 1: one txn a message")
    p.add_argument("--window", type=int, default=MqttConfig().outbox_window,
                   help="the outbox window (agent config `outbox_window`)")
    p.add_argument("--batch-max", type=int, default=500, help="central's txns per commit")
    p.add_argument("--inflight", type=int, default=100,
                   help="paho in-flight QoS 1 messages, raw and at central")
    p.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                   help="central's ledger: a SQLite file, or a PostgreSQL started for the run")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp, \
            contextlib.ExitStack() as cleanup:
        workdir = Path(tmp)
        db = str(workdir / "central.db")
        if args.store == "postgres":
            server = start_server(durable=True)  # fsync on, as in production
            cleanup.callback(server.stop)
            db = server.new_database("bench")
        broker = Mosquitto(workdir / "broker", devices=(DEVICE,)).start()
        central = start_central(workdir, db, broker, args.batch_max, args.inflight)
        try:
            raw = raw_paho(broker, args.txns, args.inflight)
            ledger = Ledger(workdir / "agent.db", device=DEVICE, site=SITE)
            agent = Agent(ledger, broker, args.window, args.inflight, not args.v1_acks,
                          args.txn_batch)
            assert broker.proc is not None
            pids = {"agent": os.getpid(), "central": central.proc.pid,
                    "mosquitto": broker.proc.pid}
            phases = asyncio.run(all_phases(agent, broker, args, pids))
            lost, duplicated = audit(db, ledger)
            ledger.close()
        finally:
            central.stop()
            broker.kill()
    live, steady, backlog = phases["live"], phases["steady"], phases["backlog"]
    figures = {
        "acks": "v1" if args.v1_acks else "v1.1-batch", "txn_batch": args.txn_batch,
        "txns_per_message": round(live["txns_per_message"], 1), "store": args.store,
        "txns": args.txns, "backlog": args.backlog, "window": args.window,
        "raw_paho_per_s": round(raw), "applied_per_s": round(live["applied_per_s"]),
        "ratio": round(live["applied_per_s"] / raw, 3),
        "saturated_ack_p50_ms": round(live["ack_p50_ms"], 1),
        "saturated_ack_p99_ms": round(live["ack_p99_ms"], 1),
        "steady_rate_per_s": round(steady.get("rate_per_s", 0), 1),
        "steady_ack_p50_ms": round(steady.get("p50_ms", 0), 1),
        "steady_ack_p99_ms": round(steady.get("p99_ms", 0), 1),
        "backlog_drain_per_s": round(backlog.get("drain_per_s", 0)),
        "lost": lost, "duplicated": duplicated, "cpu_pct": live["cpu_pct"],
    }
    print(f"raw paho QoS 1      {raw:10.0f} msg/s")
    print(f"outbox -> central   {live['applied_per_s']:10.0f} txn/s  (ratio"
          f" {figures['ratio']}, goal >= {RATIO_GOAL}; {figures['txns_per_message']} txns"
          " a message)")
    print(f"CPU while syncing   {live['cpu_pct']} (% of one core)")
    print(f"ack latency, all queued  p50 {live['ack_p50_ms']:.1f} ms,"
          f" p99 {live['ack_p99_ms']:.1f} ms")
    if steady:
        print(f"ack latency at {steady['rate_per_s']:.0f}/s   p50 {steady['p50_ms']:.1f} ms,"
              f" p99 {steady['p99_ms']:.1f} ms  ({steady['n']} txns, goal p99 <="
              f" {P99_GOAL_MS:.0f} ms)")
    if backlog:
        print(f"backlog drain       {backlog['drain_per_s']:10.0f} txn/s  ({args.backlog} in"
              f" {backlog['drain_s']:.1f} s, goal >= {BACKLOG_GOAL:.0f}/s)")
    print(f"lost {lost}, duplicated {duplicated}")
    print(json.dumps(figures), flush=True)
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
