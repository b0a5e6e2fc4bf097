"""The parts bench/fleet.py runs on this machine: the seeded ledger, central instances, the
echo clients of the raw reference, the load-generator processes, CPU accounting and the
final audit against PostgreSQL."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psutil
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench.fleet_device import Person
from bench.fleet_worker import WorkerSpec, worker_main
from central import admin
from central.codes import CodeBook
from central.storage.ledger import SqlLedger
from contract import ROOT
from tests.helpers import BIN, Child, spawn
from tests.helpers import ROOT as REPO
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of

START = 10**7  # every user's opening balance (cents)
SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with threads


def seed_people(url: str, secret: Path, users: int, with_codes: int) -> tuple[Person, ...]:
    """`users` students, each with a card; the first `with_codes` also with an access code
    (each code costs an argon2 hash here, and one argon2 check per sign-in at central)."""
    ledger = SqlLedger(url)
    codes = CodeBook.from_file(secret)
    people = []
    try:
        for i in range(users):
            name = f"u{i:04d}"
            admin.add_user(ledger, name, f"Student {i}", START, restricted=True,
                           credit_limit=0, groups=[])
            card = admin.add_card(ledger, name, f"{7_000_000 + i}")
            code = (admin.set_code(ledger, codes, name, f"{100_000 + i * 7919 % 900_000}")
                    if i < with_codes else None)
            people.append(Person(name, card, code))
    finally:
        ledger.close()
    return tuple(people)


def code_check_ms(secret: Path, tries: int = 5) -> float:
    """CPU milliseconds of one access-code check as central makes it (an argon2 verify):
    central makes it on its one DB worker, so it is also how long ingest waits."""
    codes = CodeBook.from_file(secret)
    digest = codes.hash("314159")
    spent = []
    for _ in range(tries):
        started = time.process_time()
        codes.verify(digest, "314159")
        spent.append(time.process_time() - started)
    return 1000 * sorted(spent)[tries // 2]


def start_centrals(count: int, url: str, secret: Path, broker: Mosquitto, inflight: int
                   ) -> list[Child]:
    """`pagetally central serve` as deployed (deploy/central: --max-inflight 100), `count`
    instances on the shared subscription, each with its own client id; started together."""
    pw = secret.parent / "central.pw"
    pw.write_text(password_of(CENTRAL_USER))
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    children = [spawn([str(BIN / "pagetally"), "central", "serve", "--db", url,
                       "--secret-file", str(secret), "--mqtt-port", str(broker.port),
                       "--username", CENTRAL_USER, "--password-file", str(pw),
                       "--client-id", f"central-{n}", "--max-inflight", str(inflight)], env=env)
                for n in range(count)]
    for child in children:
        child.wait_line("READY ", timeout=60)
    return children


def echo_main(port: int, name: str, inflight: int, ready: Connection) -> None:
    """The raw reference's stand-in for a central instance: every QoS 1 message from a
    device's `printer` comes straight back on its `rpc/res`, nothing decoded or stored."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name,
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.username_pw_set(CENTRAL_USER, password_of(CENTRAL_USER))
    client.max_inflight_messages_set(inflight)

    def nodelay(_c: mqtt.Client, _u: Any, sock: Any) -> None:  # as central does
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def echo(c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        c.publish(m.topic.removesuffix("printer") + "rpc/res", m.payload, qos=1)

    client.on_socket_open = nodelay
    client.on_connect = lambda c, *_: c.subscribe(f"$share/echo/{ROOT}/+/+/printer", 1)
    client.on_subscribe = lambda *_: ready.send("ready")
    client.on_message = echo
    client.connect("127.0.0.1", port)
    client.loop_forever()


@dataclass
class Procs:
    """Child processes of the bench (workers, echo clients) with their pipes."""

    procs: Sequence[BaseProcess]
    conns: list[Connection]

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def recv_all(self, timeout: float, what: str) -> list[Any]:
        out = []
        for proc, conn in zip(self.procs, self.conns, strict=True):
            if not conn.poll(timeout):
                raise TimeoutError(f"{proc.name}: no {what} within {timeout:.0f} s"
                                   f" (alive: {proc.is_alive()}, exit code {proc.exitcode})")
            out.append(conn.recv())
        return out

    def stop(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(10)


def start_echoes(broker: Mosquitto, count: int, inflight: int) -> Procs:
    pipes = [SPAWN.Pipe() for _ in range(count)]
    procs = [SPAWN.Process(target=echo_main, name=f"echo-{n}",
                           args=(broker.port, f"echo-{n}", inflight, child))
             for n, (_, child) in enumerate(pipes)]
    for proc in procs:
        proc.start()
    echoes = Procs(procs, [parent for parent, _ in pipes])
    echoes.recv_all(30, "SUBACK")
    return echoes


def start_workers(specs: Iterable[WorkerSpec]) -> Procs:
    """One process per spec; returns once every device in them is connected and subscribed."""
    pipes, procs = [], []
    for n, spec in enumerate(specs):
        parent, child = SPAWN.Pipe()
        proc = SPAWN.Process(target=worker_main, name=f"fleet-worker-{n}", args=(child, spec))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    workers = Procs(procs, pipes)
    workers.recv_all(180, "ready (every device connected)")
    return workers


def _busy(proc: psutil.Process, with_reaped: bool) -> float:
    t = proc.cpu_times()
    own = t.user + t.system
    return own + (t.children_user + t.children_system if with_reaped else 0.0)


class CpuMeter:
    """CPU seconds per named group of processes, each root with all its descendants, except
    the roots in `alone` (the bench's own process, parent of everything it measures).

    A root's reaped children count too (PostgreSQL's backends that ended are in the
    postmaster's children times), so a process that ends between two samples is not lost.
    """

    def __init__(self, groups: dict[str, list[int]], alone: frozenset[int] = frozenset()
                 ) -> None:
        self.groups, self.alone = groups, alone

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, pids in self.groups.items():
            total = 0.0
            for pid in pids:
                with contextlib.suppress(psutil.NoSuchProcess):
                    root = psutil.Process(pid)
                    if pid in self.alone:
                        total += _busy(root, with_reaped=False)
                        continue
                    total += _busy(root, with_reaped=True)
                    for child in root.children(recursive=True):
                        with contextlib.suppress(psutil.NoSuchProcess):
                            total += _busy(child, with_reaped=False)
            out[name] = total
        return out


@dataclass(frozen=True)
class Audit:
    sent: int
    held: int
    lost: int  # sent by the fleet, no row in the ledger
    duplicated: int  # rows beyond one per txn_id
    unexpected: int  # rows of this site the fleet never sent
    money_off: int  # users whose balance is not the opening balance plus their charges


def audit(url: str, site: str, sent: dict[str, tuple[str, int]]) -> Audit:
    """Count the ledger's rows by txn_id in PostgreSQL and compare every balance."""
    with psycopg.connect(url) as conn:
        rows: dict[str, int] = dict(conn.execute(
            "SELECT txn_id, count(*) FROM transactions WHERE site = %s GROUP BY txn_id",
            (site,)).fetchall())
        balances: dict[str, int] = dict(
            conn.execute("SELECT username, balance FROM accounts").fetchall())
    charged: Counter[str] = Counter()
    for user, amount in sent.values():
        charged[user] += amount
    money_off = len([u for u, balance in balances.items() if balance != START + charged[u]])
    return Audit(len(sent), len(rows), len(set(sent) - set(rows)),
                 sum(c - 1 for c in rows.values()), len(set(rows) - set(sent)), money_off)
