"""Contract v1.2 over a real Mosquitto and `pagetally central serve` (both stores): a TxnBatch
on `txns` is applied txn by txn, exactly as single txns would be; a batch that cannot be read
costs nothing and is said in plain words; the broker keeps a device's batches in its own root;
and central's status, which devices may read, announces that it takes batches."""

from __future__ import annotations

import contextlib

import msgspec

from contract import (
    MAX_TXN_BATCH,
    TxnBatch,
    decode_status,
    encode,
)
from tests.central.conftest import START_BALANCE, CentralRunner
from tests.central.mqtt_client import Device, Observer, make_txn
from tests.mosquitto import Mosquitto


def _batch(*entries: bytes) -> bytes:
    """A `txns` body from encoded entries, so a test can put a malformed one among them."""
    return b'{"txns":[' + b",".join(entries) + b"]}"


def test_each_txn_of_a_batch_is_applied_or_rejected_on_its_own(central: CentralRunner,
                                                                dev_a: Device) -> None:
    good = [make_txn("alice", -10 * (n + 1)) for n in range(3)]
    float_money = {**msgspec.json.decode(encode(make_txn("alice", -1))), "amount": -1.5}
    elsewhere = make_txn("alice", -999, device="dev-b")  # in dev-a's batch: forged
    nobody = make_txn("mallory", -5)
    body = _batch(*(encode(t) for t in good), msgspec.json.encode(float_money),
                  encode(elsewhere), encode(nobody))
    dev_a.publish(body, "txns").wait_for_publish(5)
    ids = [*(str(t.txn_id) for t in good), float_money["txn_id"], str(elsewhere.txn_id),
           str(nobody.txn_id)]
    acks = dev_a.wait_acks(ids)
    assert [acks[i].status for i in ids] == ["applied"] * 3 + ["rejected"] * 3
    assert "expected a whole number, got a decimal number" in (acks[ids[3]].reason or "")
    assert "dev-b" in (acks[ids[4]].reason or "") and "dev-a" in (acks[ids[4]].reason or "")
    assert "there is no user 'mallory'" in (acks[ids[5]].reason or "")
    assert [acks[i].balance for i in ids[:3]] == [START_BALANCE - 10, START_BALANCE - 30,
                                                  START_BALANCE - 60]
    assert central.balance("alice") == START_BALANCE - 60
    # the same batch again: every good txn is a duplicate, nothing moves
    dev_a.publish(body, "txns").wait_for_publish(5)
    dev_a._wait(lambda: all(len(dev_a.acks[i]) == 2 for i in ids), 10, "second acks")
    assert [dev_a.acks[i][-1].status for i in ids[:3]] == ["duplicate"] * 3
    assert central.balance("alice") == START_BALANCE - 60
    with contextlib.closing(central.ledger()) as ledger:
        rejected = [r.txn_id for r in ledger.rejections()]
    assert sorted(rejected) == sorted(ids[3:] * 2)  # each rejection once per delivery


def test_an_unreadable_batch_is_refused_in_plain_words_and_central_goes_on(
        central: CentralRunner, dev_a: Device) -> None:
    one = make_txn("alice", -1)
    too_many = _batch(*[encode(one)] * (MAX_TXN_BATCH + 1))
    for body in (b"not json", b'{"txns": []}', b'{"txns": {}}', too_many):
        dev_a.publish(body, "txns").wait_for_publish(5)
    tid = dev_a.send(make_txn("alice", -7))
    assert dev_a.wait_acks([tid])[tid].status == "applied"
    assert not dev_a.acks.get(str(one.txn_id))  # nothing of the long batch was taken
    assert central.balance("alice") == START_BALANCE - 7
    log = central.output()
    assert "the txn batch is invalid: expected a list of length >= 1" in log
    assert f"expected a list of length <= {MAX_TXN_BATCH}" in log
    assert "Traceback" not in log


def test_a_device_batches_only_under_its_own_root_and_reads_centrals_status(
        central: CentralRunner, broker: Mosquitto, dev_a: Device) -> None:
    spy = Observer(broker, "pagetally/v1/_central/+/status", user="dev-b")
    forger = Device(broker, "dev-b")
    try:
        spy.wait_for(lambda: bool(spy.seen), "central's status")
        status = decode_status(spy.seen[0].payload)
        assert status.online and status.txn_batch
        forged = make_txn("alice", -4000, device="dev-a")
        forger.publish(encode(TxnBatch([forged])), "txns",
                       device="dev-a").wait_for_publish(5)
        # the broker dropped the forged batch: a batch sent after it is answered, it is not
        marker = make_txn("bob", -1, device="dev-b")
        forger.publish(encode(TxnBatch([marker])), "txns").wait_for_publish(5)
        forger.wait_acks([str(marker.txn_id)])
        assert str(forged.txn_id) not in dev_a.acks
        assert central.balance("alice") == START_BALANCE
        with contextlib.closing(central.ledger()) as ledger:
            assert ledger.get_txn(str(forged.txn_id)) is None
            assert ledger.get_txn(str(marker.txn_id)) is not None
    finally:
        spy.close()
        forger.close()
