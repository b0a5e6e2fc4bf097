"""`pagetally central serve` against a real Mosquitto: ACLs, acks, rejections, rpc, status."""

from __future__ import annotations

import datetime as dt
import queue
import subprocess
import threading
import time
import uuid

import msgspec
import pytest

from contract import (
    AccountResponse,
    AckPayload,
    AuthResponse,
    InvalidResponse,
    TransactionRow,
    central_status_topic,
    decode_status,
    encode,
    topic,
)
from tests.central.conftest import ALICE_CODE, START_BALANCE, CentralRunner
from tests.central.mqtt_client import Device, Observer, make_txn
from tests.mosquitto import Mosquitto


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The observer's output lines, read on a thread so waits can have deadlines."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _next_line(lines: queue.Queue[str], timeout: float = 0.2) -> str | None:
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def test_broker_refuses_device_b_publishing_under_device_a(broker: Mosquitto) -> None:
    observer = subprocess.Popen(broker.sub_command("pagetally/v1/#"), stdout=subprocess.PIPE,
                                text=True)
    try:
        lines = _lines(observer)
        a, b = Device(broker, "dev-a"), Device(broker, "dev-b")
        # mosquitto_sub is subscribed once an allowed probe reaches it (re-sent until then)
        deadline = time.monotonic() + 10
        while "probe" not in (_next_line(lines) or ""):
            assert time.monotonic() < deadline, "the observer never saw the probe"
            a.publish(b"probe", "printer")
        forged = make_txn("alice", -999, device="dev-a")
        b.publish(encode(forged), device="dev-a").wait_for_publish(5)
        b.publish(b"marker", "printer").wait_for_publish(5)
        seen = []
        while "marker" not in (line := _next_line(lines, 10) or "marker-missing"):
            seen.append(line)
        # B's publishes reach the broker in order: the forged one would have come first
        assert line.startswith("pagetally/v1/s1/dev-b/printer ")
        assert not [s for s in seen if "dev-a/txn" in s or str(forged.txn_id) in s]
        # and B may subscribe to A's acks, but the broker delivers none of them to B
        spy = Observer(broker, topic("s1", "dev-a", "ack"), topic("s1", "dev-b", "ack"),
                       user="dev-b")
        hub = Device(broker, "dev-a", username="central")
        secret = AckPayload(uuid.uuid4(), "applied", 4242)
        hub.publish(encode(secret), "ack").wait_for_publish(5)
        hub.publish(encode(AckPayload(uuid.uuid4(), "applied", 1)), "ack",
                    device="dev-b").wait_for_publish(5)
        a.wait_acks([str(secret.txn_id)])  # A, the rightful reader, gets its ack
        spy.wait_for(lambda: any(m.topic.endswith("dev-b/ack") for m in spy.seen), "marker")
        assert [m.topic for m in spy.seen] == ["pagetally/v1/s1/dev-b/ack"]
        for closable in (a, b, hub, spy):
            closable.close()
    finally:
        observer.kill()
        observer.wait()


def test_txn_whose_topic_and_payload_disagree_is_rejected(central: CentralRunner,
                                                          dev_a: Device) -> None:
    txn = make_txn("alice", -250, device="dev-b")  # published under dev-a's root
    tid = dev_a.send(txn)
    ack = dev_a.wait_acks([tid])[tid]
    assert ack.status == "rejected"
    assert ack.reason is not None and "dev-b" in ack.reason and "dev-a" in ack.reason
    assert central.balance("alice") == START_BALANCE
    ledger = central.ledger()
    assert ledger.get_txn(tid) is None
    assert ledger.rejections()[0].txn_id == tid
    ledger.close()


def test_duplicate_deliveries_apply_once(central: CentralRunner, dev_a: Device) -> None:
    txn = make_txn("alice", -120)
    for _ in range(3):
        dev_a.send(txn)
    tid = str(txn.txn_id)
    dev_a._wait(lambda: len(dev_a.acks.get(tid, [])) == 3, 10, "three acks")
    assert [a.status for a in dev_a.acks[tid]] == ["applied", "duplicate", "duplicate"]
    assert {a.balance for a in dev_a.acks[tid]} == {START_BALANCE - 120}
    # the same txn_id with other content is not silently treated as the same txn
    other = msgspec.structs.replace(txn, amount=-5000)
    dev_a.send(other)
    dev_a._wait(lambda: len(dev_a.acks[tid]) == 4, 10, "fourth ack")
    assert dev_a.acks[tid][-1].status == "rejected"
    assert "already used" in (dev_a.acks[tid][-1].reason or "")
    assert central.balance("alice") == START_BALANCE - 120


def test_bad_payloads_are_rejected_and_central_keeps_running(central: CentralRunner,
                                                             dev_a: Device) -> None:
    good = make_txn("alice", -100)
    raw = msgspec.json.decode(encode(make_txn("alice", -100)))
    float_money = {**raw, "amount": -1.5}
    unknown_field = {**raw, "txn_id": str(uuid.uuid4()), "free_pages": 100}
    local_time = {**raw, "txn_id": str(uuid.uuid4()), "occurred_at": "2024-05-01T10:00:00+02:00"}
    nobody = make_txn("mallory", -100)
    for payload in (b"not json at all", b"\xff\xfe\x00", b"[1, 2]", b"{}"):
        dev_a.publish(payload)
    for bad in (float_money, unknown_field, local_time):
        dev_a.publish(msgspec.json.encode(bad))
    dev_a.send(nobody)
    dev_a.send(good)
    ids = [raw["txn_id"], unknown_field["txn_id"], local_time["txn_id"], str(nobody.txn_id)]
    acks = dev_a.wait_acks([*ids, str(good.txn_id)])
    assert [acks[i].status for i in ids] == ["rejected"] * 4
    reasons = [acks[i].reason or "" for i in ids]
    assert "expected a whole number, got a decimal number" in reasons[0]
    assert "unknown field 'free_pages'" in reasons[1]
    assert "must be in UTC" in reasons[2]
    assert "there is no user 'mallory'" in reasons[3]
    assert acks[str(good.txn_id)].status == "applied"
    assert central.balance("alice") == START_BALANCE - 100
    assert central.child is not None and central.child.proc.poll() is None
    log = central.output()
    assert "not valid JSON" in log and "Traceback" not in log
    ledger = central.ledger()
    assert len(ledger.rejections()) == 8  # 4 unreadable + 3 invalid + 1 unknown user
    ledger.close()


def _auth(device: Device, **params: str) -> AuthResponse:
    response = device.rpc(msgspec.json.encode({"method": "auth", "params": params}))
    assert isinstance(response, AuthResponse)
    return response


def test_rpc_auth_code_card_and_lockout(central: CentralRunner, broker: Mosquitto,
                                        dev_a: Device) -> None:
    ok = _auth(dev_a, code=ALICE_CODE)
    assert ok.result is not None and ok.result.username == "alice"
    assert (ok.result.balance, ok.result.available) == (START_BALANCE, START_BALANCE + 500)
    card = _auth(dev_a, card="00:04:2a:17")
    assert card.result is not None and card.result.username == "bob"
    assert card.result.available is None  # unrestricted
    wrong = _auth(dev_a, code="000000")
    assert wrong.error is not None and wrong.error.code == "wrong_code"
    assert "not right" in wrong.error.message
    # the fixture locks after 3 failures: two more wrong codes, then even the right one waits
    _auth(dev_a, code="111111")
    _auth(dev_a, code="222222")
    locked = _auth(dev_a, code=ALICE_CODE)
    assert locked.error is not None and locked.error.code == "locked"
    assert locked.error.retry_after is not None and 0 < locked.error.retry_after <= 900
    assert "Too many wrong codes" in locked.error.message
    dev_b = Device(broker, "dev-b")
    assert _auth(dev_b, code=ALICE_CODE).result is not None  # other terminals are not locked
    # an unknown card tried at two terminals is locked at both (counted at central)
    for device in (dev_a, dev_b, dev_a):
        err = _auth(device, card="DEADBEEF").error
        assert err is not None and err.code == "unknown_card"
    err = _auth(dev_b, card="dead-beef").error
    assert err is not None and err.code == "locked"
    bad = dev_a.rpc(b'{"method": "auth", "params": {"code": "1", "card": "2"}}')
    assert isinstance(bad, AuthResponse) is False and isinstance(bad, InvalidResponse)
    assert "exactly one of 'code' or 'card'" in bad.error.message
    dev_b.close()


def test_rpc_answers_only_on_the_devices_own_topic(central: CentralRunner, broker: Mosquitto,
                                                   dev_a: Device) -> None:
    victim = Device(broker, "dev-b")
    with pytest.raises(TimeoutError):
        dev_a.rpc(msgspec.json.encode({"method": "auth", "params": {"code": ALICE_CODE}}),
                  timeout=0.5, response_topic=topic("s1", "dev-b", "rpc/res"))
    assert _auth(dev_a, code=ALICE_CODE).result is not None  # answered in order after it
    assert victim.responses == {}
    assert "only gets answers on" in central.output()
    victim.close()


def test_rpc_account_statement(central: CentralRunner, dev_a: Device) -> None:
    ledger = central.ledger()
    now = dt.datetime.now(dt.UTC)
    old = [msgspec.structs.replace(make_txn("alice", -1), occurred_at=now - dt.timedelta(days=95))
           for _ in range(5)]
    recent = [msgspec.structs.replace(make_txn("alice", -(i + 1), comment=f"c{i}"),
                                      occurred_at=now - dt.timedelta(hours=130 - i))
              for i in range(130)]
    ledger.apply_batch([(t, "dev-a") for t in old + recent])
    ledger.close()
    response = dev_a.rpc(b'{"method": "account", "params": {"user": "alice"}}')
    assert isinstance(response, AccountResponse) and response.result is not None
    rows = response.result.transactions
    assert len(rows) == 100
    assert TransactionRow.__struct_fields__ == ("date", "transacted_by", "type", "system_note",
                                                "comment", "amount", "balance")
    assert all(r.date >= now - dt.timedelta(days=90) for r in rows)
    assert rows[0].comment == "c129" and rows[0].amount == -130  # newest first
    assert rows[0].balance == response.result.account.balance
    assert rows[0].transacted_by == "dev-a" and rows[0].type == "print"
    expected = START_BALANCE - 5 - sum(range(1, 131))
    assert response.result.account.balance == expected
    few = dev_a.rpc(b'{"method": "account", "params": {"user": "alice", "limit": 3}}')
    assert isinstance(few, AccountResponse) and few.result is not None
    assert [r.comment for r in few.result.transactions] == ["c129", "c128", "c127"]
    missing = dev_a.rpc(b'{"method": "account", "params": {"user": "nobody"}}')
    assert isinstance(missing, AccountResponse) and missing.error is not None
    assert missing.error.code == "not_found"
    too_many = dev_a.rpc(b'{"method": "account", "params": {"user": "alice", "limit": 500}}')
    assert isinstance(too_many, InvalidResponse)


def test_status_is_retained_and_the_last_will_reports_a_kill(central: CentralRunner,
                                                             broker: Mosquitto) -> None:
    status_topic = central_status_topic("pagetally-central")
    observer = Observer(broker, status_topic)
    observer.wait_for(lambda: len(observer.seen) == 1, "retained status")
    first = observer.seen[0]
    assert first.retain and decode_status(first.payload).online is True
    assert central.child is not None
    central.child.kill9()
    observer.wait_for(lambda: len(observer.seen) == 2, "last will")
    assert decode_status(observer.seen[1].payload).online is False
    late = Observer(broker, status_topic)  # a newcomer learns it from the retained message
    late.wait_for(lambda: len(late.seen) == 1, "retained offline status")
    assert decode_status(late.seen[0].payload).online is False
    central.start()
    late.wait_for(lambda: len(late.seen) == 2, "online again")
    assert decode_status(late.seen[1].payload).online is True
    central.child.stop()  # SIGTERM: a clean goodbye also says offline
    late.wait_for(lambda: len(late.seen) == 3, "clean offline")
    assert decode_status(late.seen[2].payload).online is False
    observer.close()
    late.close()
