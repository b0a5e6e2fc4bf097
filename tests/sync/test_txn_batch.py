"""The agent's outbox on contract v1.2, over a real Mosquitto to `pagetally central serve`:
the txns due at once go out in TxnBatch messages while central's status says it takes them,
and one at a time on `txn` while no central does; every txn is applied once either way."""

from __future__ import annotations

import contextlib
from pathlib import Path

import msgspec

from agent.ledger import Ledger
from contract import TxnBatch, decode_txn, topic
from tests.central.conftest import CentralRunner
from tests.central.mqtt_client import Observer
from tests.mosquitto import Mosquitto
from tests.sync.conftest import DEVICE, SITE, START
from tests.sync.outbox_harness import central_held, outbox, pending, until

TXNS = 450  # more than MAX_TXN_BATCH and less than the window: due at once


def _sent_ids(watch: Observer) -> tuple[list[str], int, int]:
    """(txn ids in the order seen, `txn` messages, `txns` messages)."""
    ids: list[str] = []
    singles = batches = 0
    for message in watch.seen:
        if message.topic.endswith("/txns"):
            batches += 1
            ids += [str(t.txn_id) for t in msgspec.json.decode(message.payload,
                                                                type=TxnBatch).txns]
        elif message.topic.endswith("/txn"):
            singles += 1
            ids.append(str(decode_txn(message.payload).txn_id))
    return ids, singles, batches


async def test_a_backlog_goes_out_in_batches_when_central_takes_them(
        tmp_path: Path, broker: Mosquitto, central: CentralRunner) -> None:
    central.start()
    db = tmp_path / "agent.db"
    ledger = Ledger(db, device=DEVICE, site=SITE)
    watch = Observer(broker, topic(SITE, DEVICE, "txn"), topic(SITE, DEVICE, "txns"))
    try:
        ids = [ledger.add_adjustment("alice", -1, "batched").txn_id for _ in range(TXNS)]
        async with outbox(ledger, broker) as sender:
            assert sender.link.central.take_batches  # known before the first send
            await until(lambda: pending(db) == 0, 30, "the outbox drained")
        sent, singles, batches = _sent_ids(watch)
        assert sorted(sent) == sorted(ids)  # each once: nothing was resent
        assert singles == 0
        assert batches == -(-TXNS // 100)  # the outbox's default: 100 txns a message
        assert sorted(central_held(central)) == sorted(ids)
        with contextlib.closing(central.ledger()) as held:
            account = held.get_account("alice")
            assert account is not None and account.balance == START["alice"] - TXNS
    finally:
        watch.close()
        ledger.close()


async def test_without_a_central_that_takes_batches_txns_go_one_by_one(
        tmp_path: Path, broker: Mosquitto, central: CentralRunner) -> None:
    db = tmp_path / "agent.db"
    ledger = Ledger(db, device=DEVICE, site=SITE)
    watch = Observer(broker, topic(SITE, DEVICE, "txn"), topic(SITE, DEVICE, "txns"))
    try:
        ids = [ledger.add_adjustment("bob", -1, "single").txn_id for _ in range(5)]
        async with outbox(ledger, broker) as sender:
            await until(lambda: len(watch.seen) >= 5, 10, "the first sends")
            assert not sender.link.central.take_batches  # no central has said so
            central.start()  # now one does: the resend goes as a batch
            await until(lambda: pending(db) == 0, 30, "the outbox drained")
        sent, singles, batches = _sent_ids(watch)
        assert sent[:5] == ids and singles >= 5
        last = watch.seen[-1]  # the resend once central took batches: all five in one
        assert last.topic.endswith("/txns") and batches >= 1
        assert [str(t.txn_id) for t in msgspec.json.decode(last.payload,
                                                           type=TxnBatch).txns] == ids
        assert sorted(central_held(central)) == sorted(ids)
        with contextlib.closing(central.ledger()) as held:
            account = held.get_account("bob")
            assert account is not None and account.balance == START["bob"] - 5
    finally:
        watch.close()
        ledger.close()
