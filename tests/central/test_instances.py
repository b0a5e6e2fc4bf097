"""Several central instances on one PostgreSQL, side by side on the shared subscription.

Three `pagetally central serve` processes (their own client ids, one database) take txns and
rpc requests from two devices. One is killed with SIGKILL mid-ingest and stays dead: the
broker keeps handing it its share until its session expires (`--session-expiry`), the
devices resend what has no ack (as the agent's outbox does), and every txn is applied
exactly once. The broker's own log shows each instance took a share; rpc requests are
answered by whichever live instance the broker hands them to, and the dead one rejoins.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from contract import AuthResponse, encode
from tests.central.conftest import ALICE_CODE, START_BALANCE, CentralRunner, LedgerAt, seed
from tests.central.mqtt_client import Device, make_txn
from tests.mosquitto import Mosquitto
from tests.postgres import PostgresServer

PER_DEVICE = 1500
EXPIRY_S = 3
AUTH = msgspec.json.encode({"method": "auth", "params": {"code": ALICE_CODE}})


@pytest.fixture
def shared_ledger(postgres: PostgresServer, tmp_path: Path) -> LedgerAt:
    db = LedgerAt(postgres.new_database("instances"), tmp_path / "ledger.secret")
    seed(db)
    return db


@pytest.fixture
def logged_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "broker", packet_log=True).start()
    yield broker
    broker.kill()


def resend_until_acked(devices: list[Device], txns: dict[str, dict[str, bytes]],
                       timeout: float) -> int:
    """What the agent's outbox does: publish again whatever has no ack after a while.
    Returns how many resends it took."""
    deadline = time.monotonic() + timeout
    resent = 0
    for device in devices:
        while True:
            missing = [t for t in txns[device.device] if t not in device.acks]
            if not missing:
                break
            assert time.monotonic() < deadline, f"{len(missing)} txns never acked"
            try:
                device._wait(lambda d=device, m=missing: all(t in d.acks for t in m), 2.0,
                             "acks")
            except TimeoutError:
                for txn_id in [t for t in missing if t not in device.acks]:
                    device.publish(txns[device.device][txn_id])
                    resent += 1
    return resent


def rpc_with_retry(device: Device, tries: int = 5) -> AuthResponse:
    """A request that went to the dead instance's session times out: ask again."""
    for _ in range(tries):
        try:
            answer = device.rpc(AUTH, timeout=2.0)
        except TimeoutError:
            continue
        assert isinstance(answer, AuthResponse)
        return answer
    raise AssertionError(f"no rpc answer in {tries} tries")


def deliveries(broker: Mosquitto, kind: str) -> Counter[str]:
    """How many `kind` messages (txn, rpc/req) the broker sent to each central instance."""
    pattern = re.compile(rf"Sending PUBLISH to (central-\d) \(d\d, q1, r0, m\d+, "
                         rf"'pagetally/v1/[^/]+/[^/]+/{re.escape(kind)}'")
    return Counter(m[1] for m in pattern.finditer(broker.log.read_text(errors="replace")))


@pytest.mark.slow
def test_three_instances_share_the_work_and_survive_losing_one(
        shared_ledger: LedgerAt, logged_broker: Mosquitto) -> None:
    runners = [CentralRunner(shared_ledger, logged_broker,
                             ("--client-id", f"central-{n}", "--session-expiry", str(EXPIRY_S)))
               for n in range(3)]
    devices: list[Device] = []
    try:
        for runner in runners:
            runner.start()
        devices = [Device(logged_broker, name) for name in ("dev-a", "dev-b")]
        sent: dict[str, dict[str, bytes]] = {}
        txns = []
        for device in devices:
            batch = [make_txn("alice" if i % 2 else "bob", -(1 + i % 7), device=device.device)
                     for i in range(PER_DEVICE)]
            txns += batch
            sent[device.device] = {str(t.txn_id): encode(t) for t in batch}
            for payload in sent[device.device].values():
                device.publish(payload)
        devices[0]._wait(lambda: len(devices[0].acks) >= 150, 30, "first 150 acks")
        victim = runners[0].child
        assert victim is not None
        victim.kill9()
        acked_at_kill = sum(len(d.acks) for d in devices)
        assert acked_at_kill < 2 * PER_DEVICE, "all done before the kill: nothing was tested"

        resent = resend_until_acked(devices, sent, timeout=120)
        answer = rpc_with_retry(devices[1])  # the two live instances answer
        assert answer.result is not None and answer.result.username == "alice"

        ledger = runners[1].ledger()
        try:
            rows = list(ledger.all_transactions())
            device_rows = [r for r in rows if r.device in sent]
            assert sorted(r.txn_id for r in device_rows) == sorted(
                t for ids in sent.values() for t in ids)  # each once, none lost
            for user in ("alice", "bob"):
                charged = sum(t.amount for t in txns if t.user == user)
                account = ledger.get_account(user)
                assert account is not None and account.balance == START_BALANCE + charged
                assert account.balance == sum(r.amount for r in rows if r.username == user)
            assert ledger.rejections() == []
        finally:
            ledger.close()
        statuses = {a.status for d in devices for acks in d.acks.values() for a in acks}
        assert statuses <= {"applied", "duplicate"}, statuses

        runners[0].start()  # the dead instance rejoins the group
        for device in devices:
            for _ in range(6):
                reply = rpc_with_retry(device)
                assert reply.result is not None
        took = deliveries(logged_broker, "txn")
        assert set(took) == {"central-0", "central-1", "central-2"}, took
        answered = deliveries(logged_broker, "rpc/req")
        assert len(answered) >= 2, answered  # requests went to more than one instance
        print(f"\n{2 * PER_DEVICE} txns over 3 instances {dict(took)}; one killed after"
              f" {acked_at_kill} acks, {resent} resends; rpc requests per instance"
              f" {dict(answered)}")
    finally:
        for device in devices:
            device.close()
        for runner in runners:
            for child in runner.runs:
                child.stop()
