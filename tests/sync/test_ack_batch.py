"""The agent's outbox on contract v1.1, over a real Mosquitto to `pagetally central serve`:
its status announces batched acks, central answers with AckBatch, and a malformed batch
changes nothing (the txns stay pending and are acked later, once each)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import msgspec
import pytest

from agent.ledger import Ledger
from contract import AckBatch, decode_acks, decode_status, topic
from tests.central.conftest import CentralRunner
from tests.central.mqtt_client import Observer
from tests.mosquitto import Mosquitto
from tests.sync.conftest import DEVICE, SITE, START
from tests.sync.outbox_harness import central_held, outbox, pending, until

TXNS = 300


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
