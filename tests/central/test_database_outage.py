"""PostgreSQL goes away under a running central and comes back: central says so in plain
words, holds what it has, keeps running, and every txn is applied exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.web.portal import Portal
from central.web.server import WebServer
from tests.central.conftest import START_BALANCE, CentralRunner, LedgerAt, seed
from tests.central.mqtt_client import Device, make_txn
from tests.mosquitto import Mosquitto
from tests.postgres import PostgresServer, start_server


def wait_for_line(central: CentralRunner, text: str, timeout: float = 20.0) -> str:
    """The first line of central's log that holds `text`."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in central.output().splitlines() if text in line]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"central never said {text!r}:\n{central.output()}"
        time.sleep(0.05)


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own: it is shut down mid-test."""
    server = start_server()
    yield server
    server.stop()


def test_central_rides_out_a_database_restart(own_postgres: PostgresServer, tmp_path: Path,
                                              broker: Mosquitto) -> None:
    db = LedgerAt(own_postgres.new_database("outage"), tmp_path / "ledger.secret")
    seed(db)
    central = CentralRunner(db, broker)
    central.start()
    device = Device(broker)
    try:
        before = [make_txn("alice", -3) for _ in range(20)]
        acks = device.wait_acks([device.send(t) for t in before], timeout=20)
        assert {a.status for a in acks.values()} == {"applied"}

        own_postgres.halt()
        during = [make_txn("bob", -5) for _ in range(30)]
        during_ids = [device.send(t) for t in during]
        assert central.child is not None
        said = wait_for_line(central, "ERROR lost the connection to the ledger at postgresql://")
        assert said.endswith("trying again"), said
        assert not any(t in device.acks for t in during_ids)  # nothing acked uncommitted
        assert central.child.proc.poll() is None, "central ended when the database went"

        own_postgres.start()
        acks = device.wait_acks(during_ids, timeout=30)
        assert {a.status for a in acks.values()} == {"applied"}
        wait_for_line(central, "WARNING the ledger database is back after")

        ledger = central.ledger()
        try:
            rows = [r for r in ledger.all_transactions() if r.device == "dev-a"]
            assert sorted(r.txn_id for r in rows) == sorted(
                [str(t.txn_id) for t in before] + during_ids)
            assert ledger.get_account("alice").balance == START_BALANCE - 60  # type: ignore[union-attr]
            assert ledger.get_account("bob").balance == START_BALANCE - 150  # type: ignore[union-attr]
        finally:
            ledger.close()
    finally:
        device.close()
        for child in central.runs:
            child.stop()


def test_the_portal_says_plainly_when_the_database_is_down(own_postgres: PostgresServer,
                                                           tmp_path: Path) -> None:
    url = own_postgres.new_database("portal")
    seed(LedgerAt(url, tmp_path / "ledger.secret"))
    portal = Portal.open(url, url, tmp_path / "ledger.secret")
    server = WebServer(portal, "127.0.0.1", 0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as web:
            assert web.get("/signin").status_code == 200
            own_postgres.halt()
            down = web.get("/signin")
            assert down.status_code == 503 and down.headers["retry-after"] == "30"
            words = " ".join(down.text.split())
            assert "cannot be reached right now" in words and "Traceback" not in words
            own_postgres.start()
            assert web.get("/signin").status_code == 200  # each thread connects again
    finally:
        server.stop()
