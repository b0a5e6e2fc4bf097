"""Fixtures for central: a real Mosquitto, a seeded ledger, and `pagetally central serve`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from central import admin
from central.codes import CodeBook
from central.storage.sqlite import SqliteLedger
from tests.central.mqtt_client import Device
from tests.helpers import BIN, ROOT, Child, spawn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of

ALICE_CODE = "246810"
BOB_CARD = "0004 2A17"  # normalised to 00042A17
START_BALANCE = 10_000


def seed(db: Path) -> None:
    """alice (code 246810, restricted, credit 5.00), bob (card 42A17, unrestricted)."""
    ledger = SqliteLedger(db)
    codes = CodeBook.from_file(db.with_name(db.name + ".secret"))
    try:
        admin.add_user(ledger, "alice", "Alice Liddell", START_BALANCE, restricted=True,
                       credit_limit=500, groups=["staff"])
        admin.add_user(ledger, "bob", "Bob Builder", START_BALANCE, restricted=False,
                       credit_limit=0, groups=[])
        admin.set_code(ledger, codes, "alice", ALICE_CODE)
        admin.add_card(ledger, "bob", BOB_CARD)
    finally:
        ledger.close()


@dataclass
class CentralRunner:
    """`pagetally central serve` as a child process, restartable (same DB, same client id)."""

    db: Path
    broker: Mosquitto
    extra: tuple[str, ...] = ()
    child: Child | None = None
    runs: list[Child] = field(default_factory=list)

    def start(self, *extra: str) -> Child:
        pw = self.db.parent / "central.pw"
        pw.write_text(password_of(CENTRAL_USER))
        env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.child = spawn([str(BIN / "pagetally"), "central", "serve", "--db", str(self.db),
                            "--mqtt-port", str(self.broker.port), "--username", CENTRAL_USER,
                            "--password-file", str(pw), "-v", *self.extra, *extra], env=env)
        self.runs.append(self.child)
        self.child.wait_line("READY ")
        return self.child

    def output(self) -> str:
        return "".join(c.output() for c in self.runs)

    def ledger(self) -> SqliteLedger:
        return SqliteLedger(self.db)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.kill()


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.db"
    seed(db)
    return db


@pytest.fixture
def central(broker: Mosquitto, ledger_db: Path) -> Iterator[CentralRunner]:
    runner = CentralRunner(ledger_db, broker, ("--lockout-failures", "3"))
    runner.start()
    yield runner
    for child in runner.runs:
        child.stop()


@pytest.fixture
def dev_a(central: CentralRunner, broker: Mosquitto) -> Iterator[Device]:
    """A device client on the broker, as terminal dev-a of site s1."""
    device = Device(broker, "dev-a")
    yield device
    device.close()
