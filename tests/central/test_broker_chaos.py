"""The broker goes away under central, again and again: central keeps running and catches up.

Found in a chaos run: central published an ack while paho had no connection, and paho's
`is_published()` raised `RuntimeError: Message publish failed: The client is not currently
connected`, which ended the service. Two tests here, both on a real Mosquitto, no mocks:

* the exact window, every time: central's worker is held until the txns (or rpc requests)
  are in its inbox and the broker is stopped, so every answer it publishes meets a missing
  connection; then the broker comes back and the persistent session redelivers them;
* 30 broker kills (SIGKILL and SIGTERM) timed against central's acks and rpc answers, with
  `pagetally central serve` as a child process, and a device that behaves like the agent's
  outbox (persistent session, resends what has no ack yet).
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.codes import CodeBook
from central.rpc import LockoutPolicy, RpcHandler
from central.service import CentralService, ServiceConfig
from central.storage.ledger import SqlLedger
from contract import AckPayload, RpcResponse, decode_ack, decode_response, encode, topic
from tests.central.conftest import ALICE_CODE, START_BALANCE, CentralRunner, LedgerAt
from tests.central.mqtt_client import make_txn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of

ACCOUNT_REQUEST = msgspec.json.encode({"method": "account",
                                       "params": {"user": "alice", "limit": 50}})
AUTH_REQUEST = msgspec.json.encode({"method": "auth", "params": {"code": ALICE_CODE}})


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout} s")
        time.sleep(0.01)


class OutboxDevice:
    """A terminal as the agent's sync task is one: a persistent session, subscriptions made
    again on every connect, fast reconnects, and txns resent until an ack comes."""

    def __init__(self, broker: Mosquitto, device: str = "dev-a", site: str = "s1") -> None:
        self.site, self.device = site, device
        self.sent: dict[str, bytes] = {}
        self.acks: dict[str, list[AckPayload]] = {}
        self.responses: dict[bytes, RpcResponse] = {}
        self.answers: dict[bytes, int] = {}  # how often each request was answered
        self.connects = 0
        self._cond = threading.Condition()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"outbox-{device}-"
                        f"{uuid.uuid4().hex[:6]}", protocol=MQTTProtocolVersion.MQTTv5)
        c.username_pw_set(device, password_of(device))
        c.reconnect_delay_set(0.05, 0.5)
        c.max_inflight_messages_set(1000)
        c.on_socket_open = lambda _c, _u, s: s.setsockopt(socket.IPPROTO_TCP,
                                                          socket.TCP_NODELAY, 1)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 600
        self.client = c
        # clean_start=False from the first connect. With paho's default (clean on the first
        # connect only), Mosquitto 2.0.11 did not bring this session back after a restart
        # (CONNACK session-present 0): answers central published before this client was back
        # met "no matching subscribers" and were dropped, and the test failed about 2 runs in 5
        c.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
        c.loop_start()
        self.wait(lambda: self.connects > 0, 10, "first connection")

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            return
        client.subscribe([(topic(self.site, self.device, "ack"), 1),
                          (topic(self.site, self.device, "rpc/res"), 1)])
        with self._cond:
            self.connects += 1
            self._cond.notify_all()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            if msg.topic.endswith("/ack"):
                ack = decode_ack(msg.payload)
                self.acks.setdefault(str(ack.txn_id), []).append(ack)
            else:
                corr = getattr(msg.properties, "CorrelationData", None) or b""
                self.responses[corr] = decode_response(msg.payload)
                self.answers[corr] = self.answers.get(corr, 0) + 1
            self._cond.notify_all()

    def wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.device}: no {what} within {timeout} s")
                self._cond.wait(min(left, 0.05))

    def send(self, user: str, amount: int) -> str:
        payload = encode(make_txn(user, amount, device=self.device, site=self.site))
        txn_id = str(msgspec.json.decode(payload)["txn_id"])
        self.sent[txn_id] = payload
        self.client.publish(topic(self.site, self.device, "txn"), payload, qos=1)
        return txn_id

    def unacked(self) -> list[str]:
        with self._cond:
            return [t for t in self.sent if t not in self.acks]

    def resend_unacked(self) -> int:
        """What the agent's outbox does after a backoff: send again what has no ack."""
        missing = self.unacked()
        for txn_id in missing:
            self.client.publish(topic(self.site, self.device, "txn"), self.sent[txn_id], qos=1)
        return len(missing)

    def request(self, payload: bytes) -> bytes:
        corr = uuid.uuid4().bytes
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = topic(self.site, self.device, "rpc/res")
        props.CorrelationData = corr
        self.client.publish(topic(self.site, self.device, "rpc/req"), payload, qos=1,
                            properties=props)
        return corr

    def answered(self, corrs: list[bytes], times: int = 1) -> int:
        with self._cond:
            return sum(self.answers.get(c, 0) >= times for c in corrs)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def check_ledger(db: LedgerAt, device: OutboxDevice) -> None:
    """Every txn the device sent is in the ledger exactly once, and the balances add up."""
    ledger = SqlLedger(db.url)
    try:
        rows = list(ledger.all_transactions())
        mine = [r for r in rows if r.device == device.device]
        assert len(mine) == len({r.txn_id for r in mine}), "a txn was applied twice"
        assert sorted(r.txn_id for r in mine) == sorted(device.sent), "txns lost or foreign"
        sent = {t: msgspec.json.decode(p) for t, p in device.sent.items()}
        for user in ("alice", "bob"):
            charged = sum(t["amount"] for t in sent.values() if t["user"] == user)
            account = ledger.get_account(user)
            assert account is not None
            assert account.balance == START_BALANCE + charged, user
            assert account.balance == sum(r.amount for r in rows if r.username == user), user
        assert ledger.rejections() == []
    finally:
        ledger.close()


# -- 1. the exact window, deterministically --------------------------------------------------

class CentralThread(threading.Thread):
    """The service in this process, as `pagetally central serve` wires it, with its DB worker
    held at `go` so the test can take the broker away first. Anything that escapes `run`
    is kept in `error` (in the real process it would end central)."""

    def __init__(self, db: LedgerAt, broker: Mosquitto) -> None:
        super().__init__(name="central-worker", daemon=True)
        self.db, self.broker = db, broker
        self.go, self.stop_event, self.built = (threading.Event(), threading.Event(),
                                                threading.Event())
        self.error: BaseException | None = None
        self.service: CentralService | None = None

    def run(self) -> None:
        ledger = SqlLedger(self.db.url)  # SQLite: the connection belongs to this thread
        try:
            codes = CodeBook.from_file(self.db.secret)
            self.service = CentralService(ledger, lambda: RpcHandler(
                SqlLedger(self.db.url), codes, LockoutPolicy()), ServiceConfig(
                port=self.broker.port, username=CENTRAL_USER,
                password=password_of(CENTRAL_USER), client_id="central-window"))
            self.service.start()
            self.built.set()
            self.go.wait()
            self.service.run(self.stop_event)
        except BaseException as exc:  # noqa: BLE001 - recorded for the test to report
            self.error = exc
        finally:
            self.built.set()
            if self.service is not None:
                try:
                    self.service.stop()
                except BaseException as exc:  # noqa: BLE001
                    self.error = self.error or exc
            ledger.close()


@pytest.mark.parametrize("kind", ["txns", "rpcs"])
def test_answers_published_while_the_broker_is_down_do_not_end_central(
        kind: str, broker: Mosquitto, ledger_db: LedgerAt,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pagetally.central")
    central = CentralThread(ledger_db, broker)
    central.start()
    assert central.built.wait(10) and central.service is not None, central.error
    service = central.service
    assert service.ready.wait(10), "central did not subscribe"
    device = OutboxDevice(broker)
    try:
        corrs: list[bytes] = []
        if kind == "txns":
            for i in range(40):
                device.send("alice" if i % 2 else "bob", -(1 + i % 7))
        else:
            corrs = [device.request(AUTH_REQUEST if i % 2 else ACCOUNT_REQUEST)
                     for i in range(20)]
        expected = len(device.sent) or len(corrs)
        inbox = service.inbox if kind == "txns" else service.rpc_inbox
        wait_until(lambda: inbox.qsize() == expected, 10, "requests in central's inbox")
        # the broker goes (gracefully: it keeps both persistent sessions) before the worker
        # publishes a single answer: every publish now meets "not currently connected"
        broker.stop()
        wait_until(lambda: "lost the broker connection" in caplog.text, 10,
                   "disconnect seen by central")
        central.go.set()
        wait_until(lambda: not central.is_alive() or (
            inbox.qsize() == 0 and "will be redelivered" in caplog.text),
            10, "the worker to handle its inbox")
        assert central.is_alive() and central.error is None, (
            "central's worker ended:\n" + "".join(traceback.format_exception(central.error)))

        broker.start()  # central reconnects; the broker redelivers what was never PUBACKed
        if kind == "txns":
            # no resend from the device: the answers come through the persistent sessions,
            # and each redelivered txn is answered "duplicate", never applied again
            device.wait(lambda: all(any(a.status == "duplicate" for a in device.acks.get(t, []))
                                    for t in device.sent), 20, "a duplicate ack for every txn")
            assert {a.status for acks in device.acks.values() for a in acks} <= {
                "applied", "duplicate"}
            check_ledger(ledger_db, device)
        else:
            # every request is answered after the reconnect: from paho's queue or from the
            # broker's redelivery (often both; how many of each depends on timing, so a
            # second answer is not required: the device takes the first by correlation)
            device.wait(lambda: device.answered(corrs) == len(corrs), 20,
                        "an answer to every rpc request")
        # redeliveries may still be coming in on a slow machine: wait for them, generously
        wait_until(lambda: inbox.qsize() == 0, 30, "an empty inbox")
        assert central.is_alive() and central.error is None, repr(central.error)
        logged = [r for r in caplog.records if r.name.startswith("pagetally.central")]
        assert not [r for r in logged if r.exc_info], "a traceback was logged"
        what = "acks for 40 txns" if kind == "txns" else "answers to"
        assert any("broker connection lost while publishing the " + what in r.getMessage()
                   for r in logged), [r.getMessage() for r in logged]
    finally:
        device.close()
        central.stop_event.set()
        central.go.set()
        central.join(10)


# -- 2. many broker kills against the real process ------------------------------------------

KILLS = 30
BURST_TXNS = 100
BURST_RPCS = 30


def _alive(central: CentralRunner, where: str) -> None:
    assert central.child is not None
    code = central.child.proc.poll()
    assert code is None, (f"central exited with {code} {where}:\n"
                          + "".join(central.child.log[-25:]))


def _answers_an_rpc(central: CentralRunner, device: OutboxDevice, where: str) -> None:
    """Central is connected and working: an auth request is answered (asked again each second,
    as a terminal would after its timeout)."""
    deadline = time.monotonic() + 30
    while True:
        _alive(central, where)
        corr = device.request(AUTH_REQUEST)
        try:
            device.wait(lambda c=corr: device.answered([c]) == 1, 1.0, "rpc answer")
        except TimeoutError:
            assert time.monotonic() < deadline, f"central answered no rpc {where}"
            continue
        response = device.responses[corr]
        assert getattr(response, "result", None) is not None, response
        return


@pytest.mark.slow
def test_broker_killed_30_times_during_ingest_and_rpc_central_catches_up(
        central: CentralRunner, broker: Mosquitto) -> None:
    rng = random.Random(10)
    device = OutboxDevice(broker)
    started = time.monotonic()
    resent = 0
    try:
        for i in range(KILLS):
            where = f"before kill {i + 1}"
            _answers_an_rpc(central, device, where)
            resent += device.resend_unacked()  # the outbox's retry after the last outage
            if i % 2 == 0:  # during ingest: after some, not all, acks of a burst came
                burst = [device.send("alice" if j % 2 else "bob", -(1 + j % 9))
                         for j in range(BURST_TXNS)]
                at = rng.randint(1, BURST_TXNS - 20)
                device.wait(lambda b=burst, n=at: sum(t in device.acks for t in b) >= n, 20,
                            f"{at} acks of burst {i}")
            else:  # during rpc: after some, not all, answers of a burst of requests
                corrs = [device.request(ACCOUNT_REQUEST) for _ in range(BURST_RPCS)]
                at = rng.randint(1, BURST_RPCS - 10)
                device.wait(lambda c=corrs, n=at: device.answered(c) >= n, 20,
                            f"{at} rpc answers of burst {i}")
            if i % 4 < 2:
                broker.kill()  # SIGKILL: the broker forgets everything since its last save
            else:
                broker.stop()  # SIGTERM: it saves the sessions and redelivers later
            time.sleep(rng.uniform(0.05, 0.5))  # central publishes into the void meanwhile
            _alive(central, f"while the broker was down (kill {i + 1})")
            broker.start()
        _answers_an_rpc(central, device, "after the last restart")
        rounds = 0
        while device.unacked():
            rounds += 1
            assert rounds <= 10, f"{len(device.unacked())} txns never acked"
            resent += device.resend_unacked()
            try:
                device.wait(lambda: not device.unacked(), 5, "every ack")
            except TimeoutError:
                continue
        elapsed = time.monotonic() - started
        _alive(central, "at the end")
        check_ledger(central.db, device)
        statuses = {a.status for acks in device.acks.values() for a in acks}
        assert statuses <= {"applied", "duplicate"}, statuses
        output = central.output()
        assert "Traceback" not in output
        lost = output.count("broker connection lost while publishing")
        print(f"\n{KILLS} broker kills, {len(device.sent)} txns and"
              f" {KILLS // 2 * BURST_RPCS} rpc requests in bursts, {resent} txns resent by the"
              f" device, {sum(len(a) for a in device.acks.values())} acks received,"
              f" {lost} 'connection lost while publishing' notes; {elapsed:.1f} s")
    finally:
        device.close()
