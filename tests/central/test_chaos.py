"""Crash central (SIGKILL) in the middle of a burst: every txn still lands exactly once."""

from __future__ import annotations

import time

import pytest

from tests.central.conftest import START_BALANCE, CentralRunner
from tests.central.mqtt_client import Device, make_txn
from tests.mosquitto import Mosquitto

N = 2000


@pytest.mark.slow
def test_kill9_mid_ingest_applies_everything_exactly_once(central: CentralRunner,
                                                          broker: Mosquitto) -> None:
    device = Device(broker)
    txns = [make_txn("alice" if i % 2 else "bob", -(1 + i % 9)) for i in range(N)]
    ids = [str(t.txn_id) for t in txns]
    started = time.monotonic()
    for txn in txns:
        device.send(txn)
    # SIGKILL once some, but not all, txns are acknowledged
    device._wait(lambda: len(device.acks) >= 200, 20.0, "first 200 acks")
    assert central.child is not None
    central.child.kill9()
    acked_before_kill = len(device.acks)
    assert acked_before_kill < N, "central finished before it could be killed"

    central.start()
    acks = device.wait_acks(ids, timeout=60.0)
    elapsed = time.monotonic() - started
    statuses = {a.status for a in acks.values()}
    assert statuses <= {"applied", "duplicate"}, statuses

    ledger = central.ledger()
    try:
        rows = list(ledger.all_transactions())
        device_rows = [r for r in rows if r.device == "dev-a"]
        assert sorted(r.txn_id for r in device_rows) == sorted(ids)  # each once, none lost
        for user in ("alice", "bob"):
            charged = sum(t.amount for t in txns if t.user == user)
            account = ledger.get_account(user)
            assert account is not None
            assert account.balance == START_BALANCE + charged
            assert account.balance == sum(r.amount for r in rows if r.username == user)
    finally:
        ledger.close()
    device.close()
    print(f"\n{N} txns, killed after {acked_before_kill} acks, all applied once in"
          f" {elapsed:.2f} s")
