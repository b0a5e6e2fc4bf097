"""The agent's outbox on contract v1.1, over a real Mosquitto to `pagetally central serve`:
its status announces batched acks, central answers with AckBatch, and a malformed batch
changes nothing (the txns stay pending and are acked later, once each)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec
import pytest

from agent.ledger import Ledger
from agent.sync.link import CentralLink, LinkSettings
from agent.sync.outbox import OutboxSender
from contract import AckBatch, decode_acks, decode_status, topic
from tests.central.conftest import CentralRunner
from tests.central.mqtt_client import Observer
from tests.mosquitto import Mosquitto, password_of
from tests.sync.conftest import DEVICE, SITE, START, seed_central, wait_until

TXNS = 300


@contextlib.asynccontextmanager
async def outbox(ledger: Ledger, broker: Mosquitto) -> AsyncIterator[OutboxSender]:
    link = CentralLink(LinkSettings("127.0.0.1", broker.port, SITE, DEVICE, DEVICE,
                                    password_of(DEVICE), backoff_min_s=0.05,
                                    backoff_max_s=0.5))
    sender = OutboxSender(ledger, link, window=500, resend_after_s=2.0)
    tasks = [asyncio.create_task(c) for c in (link.run(), sender.run(), sender.run_acks())]
    try:
        await asyncio.wait_for(link.connected.wait(), 10)
        yield sender
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll on a thread, so the agent's tasks run meanwhile."""
    await asyncio.to_thread(wait_until, check, timeout, what)


def pending(db: Path) -> int:
    """Unacked outbox rows, read on a connection of our own (the agent's is busy)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        return int(con.execute("SELECT COUNT(*) FROM txns WHERE outbox = 'pending'")
                   .fetchone()[0])


def central_held(central: CentralRunner) -> list[str]:
    ledger = central.ledger()
    try:
        return [r.txn_id for r in ledger.all_transactions() if r.device == DEVICE]
    finally:
        ledger.close()


@pytest.fixture
def broker(tmp_path: Path) -> Mosquitto:
    b = Mosquitto(tmp_path / "broker", devices=(DEVICE,)).start()
    yield b  # type: ignore[misc]
    b.kill()


@pytest.fixture
def central(tmp_path: Path, broker: Mosquitto) -> CentralRunner:
    db = tmp_path / "central.db"
    seed_central(db)
    runner = CentralRunner(db, broker)
    yield runner  # type: ignore[misc]
    for child in runner.runs:
        child.stop()


async def test_the_agent_announces_v11_and_its_outbox_drains_on_batched_acks(
        tmp_path: Path, broker: Mosquitto, central: CentralRunner) -> None:
    central.start()
    db = tmp_path / "agent.db"
    ledger = Ledger(db, device=DEVICE, site=SITE)
    watch = Observer(broker, topic(SITE, DEVICE, "ack"), topic(SITE, DEVICE, "status"))
    try:
        ids = [ledger.add_adjustment("alice", -1, "batch").txn_id for _ in range(TXNS)]
        async with outbox(ledger, broker):
            await until(lambda: pending(db) == 0, 30, "the outbox drained")
        statuses = [m for m in watch.seen if m.topic.endswith("/status")]
        assert decode_status(statuses[0].payload).ack_batch is True
        acks = [bytes(m.payload) for m in watch.seen if m.topic.endswith("/ack")]
        batches = [msgspec.json.decode(a, type=AckBatch) for a in acks]  # only batches
        acked = [str(a.txn_id) for b in batches for a in b.acks]
        assert sorted(set(acked)) == sorted(ids)
        assert len(acks) < TXNS
        assert {t.outbox for t in ledger.txns()} == {"acked"}
        assert sorted(central_held(central)) == sorted(ids)
    finally:
        watch.close()
        ledger.close()


async def test_a_malformed_batch_is_ignored_and_loses_nothing(
        tmp_path: Path, broker: Mosquitto, central: CentralRunner,
        caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "agent.db"
    ledger = Ledger(db, device=DEVICE, site=SITE)
    # central's broker user may write the device's ack topic (it watches nothing here)
    hub = Observer(broker, "pagetally/v1/_central/#", user="central")
    where = topic(SITE, DEVICE, "ack")
    try:
        ids = [ledger.add_adjustment("bob", -1, "bad batch").txn_id for _ in range(3)]
        caplog.set_level(logging.WARNING, "pagetally.sync.outbox")
        async with outbox(ledger, broker):
            good = {"txn_id": ids[0], "status": "applied", "balance": 7}
            bad = {"txn_id": ids[1], "status": "applied", "balance": 1.5}
            for data in (msgspec.json.encode({"acks": [good, bad]}), b'{"acks": ['):
                hub.client.publish(where, data, qos=1).wait_for_publish(5)
            await until(lambda: caplog.text.count("ignored a bad ack") == 2, 10,
                        "both bad batches were read")
            assert "the ack batch is invalid: expected a whole number, got a decimal" \
                   " number (at field 'acks[1].balance')" in caplog.text
            assert pending(db) == 3  # not even the good entry was taken
            central.start()  # now the real acks come, after a resend
            await until(lambda: pending(db) == 0, 30, "the outbox drained")
        assert sorted(central_held(central)) == sorted(ids)
        assert {t.ack_status for t in ledger.txns()} == {"applied"}
        with contextlib.closing(central.ledger()) as held:
            account = held.get_account("bob")
            assert account is not None and account.balance == START["bob"] - 3
        assert [decode_acks(b'{"acks":[' + msgspec.json.encode(good) + b"]}")[0].balance] \
            == [7]  # the good entry alone would have been a valid batch
    finally:
        hub.close()
        ledger.close()
