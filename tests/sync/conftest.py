"""The whole chain for sync tests: Mosquitto, central, the simulator and an agent in central mode.

Nothing is mocked: the agent logs in through central's rpc, meters jobs on `pagetally sim`
and publishes its outbox through a real broker to `pagetally central serve`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from central import admin
from central.codes import CodeBook
from central.storage.base import TxnRecord
from central.storage.ledger import SqlLedger
from tests.agent_env import CODES, AgentEnv, make_env
from tests.central.conftest import CentralRunner
from tests.mosquitto import Mosquitto, password_of

DEVICE, SITE = "dev-1", "site-1"  # as in tests.agent_env's agent.toml
PRICE_MONO = 10  # minor units per impression, as in tests.agent_env's agent.toml
START = {"alice": 100_000, "bob": 100_000}


def seed_central(db: Path) -> None:
    """The agent_env users at central, with the same access codes."""
    ledger = SqlLedger(db)
    codes = CodeBook.from_file(db.with_name(db.name + ".secret"))
    try:
        for user, balance in START.items():
            admin.add_user(ledger, user, user.title(), balance, restricted=True,
                           credit_limit=0, groups=[])
            admin.set_code(ledger, codes, user, CODES[user])
    finally:
        ledger.close()


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.05) -> None:
    """Poll `check` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


@dataclass
class SyncEnv:
    broker: Mosquitto
    central: CentralRunner
    agent: AgentEnv

    def central_rows(self) -> list[TxnRecord]:
        ledger = self.central.ledger()
        try:
            return [r for r in ledger.all_transactions() if r.device == DEVICE]
        finally:
            ledger.close()

    def central_balance(self, user: str) -> int:
        return self.central.balance(user)

    def agent_txns(self) -> list[dict[str, object]]:
        """The agent's outbox rows, read from its SQLite file (it may be dead)."""
        con = sqlite3.connect(self.agent.dir / "ledger.db")
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM txns ORDER BY seq")]
        finally:
            con.close()

    def wait_drained(self, timeout: float = 30.0) -> None:
        """Every agent txn acked by central, and central holds each exactly once."""
        def drained() -> bool:
            txns = self.agent_txns()
            return bool(txns) and all(t["outbox"] == "acked" for t in txns)

        wait_until(drained, timeout, "the agent's outbox drained")


def agent_mqtt(broker: Mosquitto, **overrides: str | int | float) -> dict[str, str | int | float]:
    pw = broker.workdir / f"{DEVICE}.pw"
    pw.write_text(password_of(DEVICE))
    return {"host": "127.0.0.1", "port": broker.port, "username": DEVICE,
            "password_file": str(pw), "reconnect_min_s": 0.1, "reconnect_max_s": 1.0,
            "resend_after_s": 3.0, **overrides}


def start_sync_env(tmp_path: Path, *, ppm: float = 1200, poll_interval_s: float = 0.1,
                   **mqtt: str | int | float) -> SyncEnv:
    broker = Mosquitto(tmp_path / "broker", devices=(DEVICE,)).start()
    db = tmp_path / "ledger.db"
    seed_central(db)
    central = CentralRunner(db, broker)
    central.start()
    # the default wait for central's answer to a login (3 s): a loaded CI machine has taken
    # more than 1 s for the first one, and the login then fell back to the offline cache
    agent = make_env(ppm=ppm, mqtt=agent_mqtt(broker, **mqtt), poll_interval_s=poll_interval_s)
    return SyncEnv(broker, central, agent)


def stop_sync_env(env: SyncEnv) -> None:
    env.agent.stop()
    for child in env.central.runs:
        child.stop()
    env.broker.kill()


@pytest.fixture
def sync_env(tmp_path: Path) -> Iterator[SyncEnv]:
    env = start_sync_env(tmp_path)
    yield env
    stop_sync_env(env)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker that knows the device (for the outbox tests)."""
    b = Mosquitto(tmp_path / "broker", devices=(DEVICE,)).start()
    yield b
    b.kill()


@pytest.fixture
def central(tmp_path: Path, broker: Mosquitto) -> Iterator[CentralRunner]:
    """Seeded, not started: each test starts it when its story needs central."""
    db = tmp_path / "central.db"
    seed_central(db)
    runner = CentralRunner(db, broker)
    yield runner
    for child in runner.runs:
        child.stop()
