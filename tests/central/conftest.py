"""Fixtures for central: a real Mosquitto, a seeded ledger on each store (SQLite and a real
PostgreSQL), and `pagetally central serve`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from central import admin
from central.codes import CodeBook
from central.storage.ledger import SqlLedger
from tests.central.mqtt_client import Device
from tests.helpers import BIN, ROOT, Child, spawn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of
from tests.postgres import PostgresServer

ALICE_CODE = "246810"
BOB_CARD = "0004 2A17"  # normalised to 00042A17
START_BALANCE = 10_000


@dataclass(frozen=True)
class LedgerAt:
    """Where one ledger lives: its database URL and its code-lookup secret file."""

    url: str
    secret: Path


def ledger_at(db: Path | LedgerAt) -> LedgerAt:
    """A SQLite file given as a path (the agent-side tests' ledgers) keeps its secret beside it."""
    return db if isinstance(db, LedgerAt) else LedgerAt(str(db), db.with_name(db.name + ".secret"))


@dataclass
class Stores:
    """New ledgers on one store: SQLite files in the test's directory, or databases on the
    session's PostgreSQL server."""

    kind: str
    dir: Path
    server: PostgresServer | None = None

    def url(self, name: str = "ledger") -> str:
        if self.server is None:
            return str(self.dir / f"{name}.db")
        return self.server.new_database(name)

    def new(self, name: str = "ledger") -> LedgerAt:
        return LedgerAt(self.url(name), self.dir / f"{name}.secret")


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    if request.param == "sqlite":
        return Stores("sqlite", tmp_path)
    return Stores("postgres", tmp_path, request.getfixturevalue("postgres"))


def seed(where: Path | LedgerAt) -> None:
    """alice (code 246810, restricted, credit 5.00), bob (card 42A17, unrestricted)."""
    db = ledger_at(where)
    ledger = SqlLedger(db.url)
    codes = CodeBook.from_file(db.secret)
    try:
        admin.add_user(ledger, "alice", "Alice Liddell", START_BALANCE, restricted=True,
                       credit_limit=500, groups=["staff"])
        admin.add_user(ledger, "bob", "Bob Builder", START_BALANCE, restricted=False,
                       credit_limit=0, groups=[])
        admin.set_code(ledger, codes, "alice", ALICE_CODE)
        admin.add_card(ledger, "bob", BOB_CARD)
    finally:
        ledger.close()


class CentralRunner:
    """`pagetally central serve` as a child process, restartable (same DB, same client id)."""

    def __init__(self, db: Path | LedgerAt, broker: Mosquitto, extra: tuple[str, ...] = ()
                 ) -> None:
        self.db, self.broker, self.extra = ledger_at(db), broker, extra
        self.child: Child | None = None
        self.runs: list[Child] = []

    def start(self, *extra: str) -> Child:
        pw = self.db.secret.parent / "central.pw"
        pw.write_text(password_of(CENTRAL_USER))
        env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.child = spawn([str(BIN / "pagetally"), "central", "serve", "--db", self.db.url,
                            "--secret-file", str(self.db.secret),
                            "--mqtt-port", str(self.broker.port), "--username", CENTRAL_USER,
                            "--password-file", str(pw), "-v", *self.extra, *extra], env=env)
        self.runs.append(self.child)
        self.child.wait_line("READY ")
        return self.child

    def output(self) -> str:
        return "".join(c.output() for c in self.runs)

    def ledger(self) -> SqlLedger:
        return SqlLedger(self.db.url)

    def balance(self, user: str) -> int:
        """The user's balance at central, read on a connection of its own."""
        ledger = self.ledger()
        try:
            account = ledger.get_account(user)
            assert account is not None, f"central has no user {user!r}"
            return account.balance
        finally:
            ledger.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.kill()


@pytest.fixture
def ledger_db(stores: Stores) -> LedgerAt:
    db = stores.new()
    seed(db)
    return db


@pytest.fixture
def central(broker: Mosquitto, ledger_db: LedgerAt) -> Iterator[CentralRunner]:
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
