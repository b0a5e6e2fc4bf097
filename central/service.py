"""The central MQTT service: txns in, acks out, rpc answered, status announced.

Threads, and why: paho runs its network loop on its own thread (`loop_start`); its callbacks
only put messages on a queue. ONE DB worker (the caller of `run`, normally the main thread)
owns the ledger connection, takes whatever txns are queued (about `batch_max`, alone or in
contract v1.2 batches), applies them in one commit, publishes the acks, waits until the
broker has taken them (their PUBACKs), and only then acknowledges the txn messages to the
broker (paho manual ack). rpc requests (sign-ins, statements) have a queue and
`rpc_threads` threads of their own, each with its own connection, so an access code's argon2
check never holds up txns. So:

* the ledger never sees two writers and never blocks the network loop;
* a txn the broker considers delivered is committed AND its ack is safely at the broker;
  anything short of that (crash, lost connection) is redelivered through the persistent
  session (fixed client id, clean_start=False) and answered "duplicate" from the txn_id key.
  (Sending the PUBACK right after the commit is not enough: paho queues acks beyond its
  in-flight window, the PUBACK overtakes them, and a crash then loses the ack for good.)

The broker may go at any moment, and central outlives it. Every publish and PUBACK is
guarded: paho raises for a publish made while it has no connection, and that only means
"not at the broker", never the end of the service. A message whose answer the broker did not
take, or that came on a connection which has since gone (`generation`, bumped on every
connect and disconnect), is not PUBACKed: the broker redelivers it after the reconnect (or,
if the broker lost its state, the terminal's outbox sends it again), and it is answered
"duplicate". The worker stops waiting for PUBACKs as soon as the connection goes, and says
so in one plain line per batch.

Who sent a txn: MQTT does not tell a subscriber the publisher's username. The broker ACL
(`pattern write pagetally/v1/+/%u/#`) makes the topic's device level equal the device's
username, and central rejects a txn whose payload site/device differs from its topic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from central.acks import DeviceFeatures, group_acks
from central.inbound import Decoded, Inbound, InboundKind, decode_message
from central.rpc import RpcHandler
from central.storage.base import ApplyResult, Ledger
from central.storage.sqldb import DatabaseUnavailable
from contract import (
    RPC_SHARED_SUBSCRIPTION,
    STATUS_SUBSCRIPTION,
    TXN_BATCH_SHARED_SUBSCRIPTION,
    TXN_SHARED_SUBSCRIPTION,
    AckPayload,
    StatusPayload,
    TopicError,
    central_status_topic,
    encode,
    parse_topic,
    topic,
)
from contract.version import VERSION

log = logging.getLogger("pagetally.central")
#: How long the broker keeps an instance's session (its unacknowledged messages) after it is
#: gone. Mosquitto keeps handing an offline instance its share of the shared subscription
#: until then, so with several instances this bounds how long a dead one holds txns (the
#: devices resend them, and central answers a repeat "duplicate") and rpc requests (they
#: time out at the device). A restart within it gets its messages back at once.
SESSION_EXPIRY_S = 60


@dataclass(frozen=True)
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = "central"
    password: str = ""
    client_id: str = "pagetally-central"
    version: str = VERSION
    batch_max: int = 500
    keepalive_s: int = 30
    receive_maximum: int = 1000
    max_inflight: int = 20  # keep <= the broker's max_inflight_messages (paho ignores it)
    publish_timeout_s: float = 5.0
    session_expiry_s: int = SESSION_EXPIRY_S
    rpc_threads: int = 2


@dataclass(frozen=True)
class _NotSent:
    """paho refused a publish outright (it raised); nothing went towards the broker."""

    reason: str


# What was published in answer to one inbound message: nothing (None), or paho's handle.
Answer = mqtt.MQTTMessageInfo | _NotSent | None
Outcome = Literal["taken", "lost", "late"]


def set_nodelay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    """Without TCP_NODELAY a round trip waits ~40-90 ms for Nagle + delayed ACK."""
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class CentralService:
    """Owns one paho client, drives the ledger from one DB worker, and answers rpc requests
    on threads of their own."""

    def __init__(self, ledger: Ledger, open_rpc: Callable[[], RpcHandler],
                 config: ServiceConfig) -> None:
        """`open_rpc` makes an rpc handler with its own ledger connection; each rpc thread
        calls it once, on that thread (a SQLite connection belongs to its thread)."""
        self.ledger = ledger
        self.open_rpc = open_rpc
        self.config = config
        self.inbox: queue.Queue[Inbound] = queue.Queue()  # txns, for the DB worker
        self.rpc_inbox: queue.Queue[Inbound] = queue.Queue()
        self.ready = threading.Event()
        self._generation = 0  # the connection messages came on; see _puback
        self._link = threading.Lock()
        self._stopping = False
        self._since = dt.datetime.now(dt.UTC)
        self._status_topic = central_status_topic(config.client_id)
        self.features = DeviceFeatures()
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                        protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)
        c.username_pw_set(self.config.username, self.config.password)
        c.will_set(self._status_topic, self._status(False), qos=1, retain=True)
        c.reconnect_delay_set(0.2, 5)  # type: ignore[arg-type]  # paho sleeps floats; stub: int
        c.max_inflight_messages_set(self.config.max_inflight)
        c.on_socket_open = set_nodelay
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        return c

    def _status(self, online: bool) -> bytes:
        """Also the announcement that this instance reads batched txns (contract v1.2)."""
        return encode(StatusPayload(online, self.config.version, self._since, txn_batch=True))

    # network thread ---------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            log.error("the broker refused the connection: %s", reason)
            return
        with self._link:
            self._generation += 1
        log.info("connected to the broker at %s:%d", self.config.host, self.config.port)
        # statuses at QoS 0: nothing to PUBACK, and the retained ones come again on every
        # (re)subscribe, so a missed one is caught up at the next connect
        client.subscribe([(TXN_SHARED_SUBSCRIPTION, SubscribeOptions(qos=1)),
                          (TXN_BATCH_SHARED_SUBSCRIPTION, SubscribeOptions(qos=1)),
                          (RPC_SHARED_SUBSCRIPTION, SubscribeOptions(qos=1)),
                          (STATUS_SUBSCRIPTION, SubscribeOptions(qos=0, noLocal=True))])
        self._publish(self._status_topic, self._status(True), retain=True)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any],
                      _p: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the broker refused our subscriptions: %s", ", ".join(refused))
            return
        self.ready.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any,
                       _p: Any) -> None:
        with self._link:  # PUBACKs for what came on this connection are void from now on
            self._generation += 1
        if self._stopping:
            log.info("disconnected from the broker")
        else:
            log.warning("lost the broker connection (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/status"):
            self.features.note_status(msg.topic, bytes(msg.payload))
            return
        kind: InboundKind = ("rpc" if msg.topic.endswith("/rpc/req") else
                             "txns" if msg.topic.endswith("/txns") else "txn")
        props = msg.properties
        (self.rpc_inbox if kind == "rpc" else self.inbox).put(Inbound(
            kind, msg.topic, bytes(msg.payload), msg.mid, msg.qos, self._generation,
            getattr(props, "ResponseTopic", None), getattr(props, "CorrelationData", None)))

    # lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        self.client.connect_async(self.config.host, self.config.port, self.config.keepalive_s,
                                  clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        """Say goodbye properly: offline status (retained), then a clean disconnect."""
        self._stopping = True
        if self.client.is_connected():
            info = self._publish(self._status_topic, self._status(False), retain=True)
            if isinstance(info, mqtt.MQTTMessageInfo):
                try:
                    info.wait_for_publish(2.0)
                except (ValueError, RuntimeError):
                    log.warning("the broker went before it took our offline status")
        self.client.disconnect()
        self.client.loop_stop()

    def run(self, stop: threading.Event) -> None:
        """The DB worker, on the calling thread, until `stop` is set; the rpc threads beside
        it. Sign-ins are kept off the DB worker because checking an access code is an
        argon2 hash (about a quarter of a CPU second on a loaded machine): on the worker,
        each one held up every txn ack and card sign-in behind it (bench/fleet.py)."""
        helpers = [threading.Thread(target=self._rpc_worker, args=(stop,),
                                    name=f"rpc-{n}", daemon=True)
                   for n in range(self.config.rpc_threads)]
        for thread in helpers:
            thread.start()
        try:
            self._drain(self.inbox, self.config.batch_max, self.process, stop)
        finally:
            for thread in helpers:
                thread.join(timeout=5)

    def _rpc_worker(self, stop: threading.Event) -> None:
        while True:  # the database may be away when central starts: wait for it
            try:
                rpc = self.open_rpc()
                break
            except DatabaseUnavailable as exc:
                log.error("rpc requests wait: %s", exc)
                if stop.wait(2.0):
                    return
        try:
            self._drain(self.rpc_inbox, 20, lambda batch: self.answer(rpc, batch), stop)
        finally:
            rpc.ledger.close()

    def _drain(self, inbox: queue.Queue[Inbound], most: int,
               handle: Callable[[list[Inbound]], None], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                batch = [inbox.get(timeout=0.2)]
            except queue.Empty:
                continue
            size = batch[0].weight
            while size < most:
                try:
                    batch.append(inbox.get_nowait())
                except queue.Empty:
                    break
                size += batch[-1].weight
            self._until_done(handle, batch, stop)

    @staticmethod
    def _until_done(handle: Callable[[list[Inbound]], None], batch: list[Inbound],
                    stop: threading.Event) -> None:
        """Handle the batch; while the database is unreachable, say so once and try again
        (with a growing pause). Nothing of the batch was PUBACKed, and a txn that did
        commit before the connection went is answered "duplicate" on the retry."""
        pause = 0.5
        down_since: float | None = None
        while True:
            try:
                handle(batch)
            except DatabaseUnavailable as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    log.error("%s; holding %s and trying again", exc,
                              _plural(len(batch), "message"))
                if stop.wait(pause):
                    return
                pause = min(pause * 2, 5.0)
                continue
            if down_since is not None:
                log.warning("the ledger database is back after %.1f s",
                            time.monotonic() - down_since)
            return

    # DB worker --------------------------------------------------------------------------

    def process(self, batch: list[Inbound]) -> None:
        """Apply a batch of txns in one commit, ack them, then PUBACK them."""
        self._ingest(batch)

    def answer(self, rpc: RpcHandler, batch: list[Inbound]) -> None:
        """Answer rpc requests (on an rpc thread, with that thread's handler)."""
        self._puback_when_published([(m, [self._answer(rpc, m)]) for m in batch], "rpc")

    def _ingest(self, messages: list[Inbound]) -> None:
        items = [item for m in messages for item in decode_message(m)]
        good = [i for i in items if i.txn is not None]
        results = self.ledger.apply_batch([(i.txn, i.device) for i in good if i.txn])
        for item, result in zip(good, results, strict=True):
            item.result = result
            if result.status == "rejected":
                item.reason = result.reason
        acks: list[tuple[str, str, AckPayload]] = []
        owner: list[int] = []  # the item each ack answers
        for index, item in enumerate(items):  # the commit is done; now tell the devices
            ack = self._ack_of(item)
            if ack is not None:
                acks.append((item.site, item.device, ack))
                owner.append(index)
        answers: list[Answer] = [None] * len(items)
        for message in group_acks(acks, self.features):  # one per txn, or one per device
            info = self._publish(message.topic, message.payload)
            for position in message.answers:
                answers[owner[position]] = info
        # then the broker: each message is PUBACKed once the messages carrying the acks of
        # all its txns are taken
        by_message: dict[int, tuple[Inbound, list[Answer]]] = {}
        for item, answer in zip(items, answers, strict=True):
            by_message.setdefault(id(item.message), (item.message, []))[1].append(answer)
        self._puback_when_published(list(by_message.values()), "txn")

    def _puback_when_published(self, sent: list[tuple[Inbound, list[Answer]]],
                               kind: Literal["txn", "rpc"]) -> None:
        """PUBACK each message once everything we published for it is at the broker; leave
        the rest unacknowledged, to be redelivered and answered again."""
        deadline = time.monotonic() + self.config.publish_timeout_s
        lost = late = 0
        for message, answers in sent:
            distinct = {id(answer): answer for answer in answers}.values()  # a batch's acks
            outcomes = {self._taken(answer, message.generation, deadline)
                        for answer in distinct}
            outcome: Outcome = ("lost" if "lost" in outcomes else
                                "late" if "late" in outcomes else "taken")
            if outcome == "taken" and self._puback(message):
                continue
            if outcome == "late":
                late += 1
            else:
                lost += 1
        what = (f"acks for {_plural(lost, 'txn')}" if kind == "txn"
                else f"answers to {_plural(lost, 'rpc request')}")
        if lost and kind == "txn":
            log.warning("broker connection lost while publishing the %s; they are committed,"
                        " and will be redelivered and acked as duplicates", what)
        elif lost:
            log.warning("broker connection lost while publishing the %s; they will be"
                        " redelivered and answered again", what)
        if late:
            log.warning("the broker did not take our answers to %s in time; it will"
                        " redeliver them and we will answer again",
                        _plural(late, "txn" if kind == "txn" else "rpc request"))

    def _taken(self, answer: Answer, generation: int, deadline: float) -> Outcome:
        """Whether the broker took our answer to a message that came on connection
        `generation`: "lost" as soon as that connection is gone (its PUBACK can no longer be
        sent) or paho could not publish, "late" at the deadline."""
        if isinstance(answer, _NotSent):
            return "lost"
        while True:
            try:
                if answer is None or answer.is_published():
                    return "taken"
            except (ValueError, RuntimeError):  # paho never sent it: there was no connection
                return "lost"
            if generation != self._generation or not self.client.is_connected():
                return "lost"
            left = deadline - time.monotonic()
            if left <= 0:
                return "late"
            with contextlib.suppress(ValueError, RuntimeError):
                answer.wait_for_publish(min(left, 0.05))

    def _publish(self, where: str, payload: bytes, *, retain: bool = False,
                 properties: Properties | None = None) -> mqtt.MQTTMessageInfo | _NotSent:
        """Publish at QoS 1. Never raises: with no connection paho keeps the message and sends
        it after the reconnect, and `_taken` finds out that it is not at the broker yet."""
        try:
            return self.client.publish(where, payload, qos=1, retain=retain,
                                       properties=properties)
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("could not publish on %s: %s", where, exc)
            return _NotSent(str(exc))

    def _ack_of(self, item: Decoded) -> AckPayload | None:
        """The ack for one decoded txn (a rejection is recorded first); None when there is
        no txn_id or device to answer."""
        result = item.result
        if item.reason is not None:
            log.warning("rejected txn %s from %s/%s: %s", item.txn_id or "(no usable txn_id)",
                        item.site, item.device, item.reason)
            self.ledger.record_rejection(item.txn_id, item.site, item.device, item.reason,
                                         item.payload)
            if result is None and item.txn_id and item.site != "?":
                result = ApplyResult(item.txn_id, "rejected", 0, item.reason)
        if result is None:
            return None
        # "unchanged" is a posting's (a reset to the balance it had); a device txn never is
        status = "applied" if result.status == "unchanged" else result.status
        txn_id = item.txn.txn_id if item.txn is not None else uuid.UUID(result.txn_id)
        return AckPayload(txn_id, status, result.balance,
                          result.reason[:500] if result.reason else None)

    def _puback(self, message: Inbound) -> bool:
        """Acknowledge to the broker, unless the message came on a connection that has gone
        (a PUBACK must not reach the next connection, where the broker may have given its
        packet id to another message). The lock orders this against `_on_disconnect`: a
        PUBACK queued before the bump is dropped with the old connection's packets."""
        if message.qos == 0:
            return True
        with self._link:
            if message.generation != self._generation:
                return False
            try:
                return self.client.ack(message.mid, message.qos) == mqtt.MQTT_ERR_SUCCESS
            except (ValueError, RuntimeError, OSError) as exc:
                log.warning("could not acknowledge a message to the broker: %s", exc)
                return False

    def _answer(self, rpc: RpcHandler, message: Inbound) -> Answer:
        """Answer one rpc request; None when it is ignored (nothing to publish)."""
        try:
            where = parse_topic(message.topic)
        except TopicError as exc:
            log.warning("ignored an rpc request: %s", exc)
            return None
        expected = topic(where.site, where.device, "rpc/res")
        if message.response_topic not in (None, expected):
            log.warning("ignored an rpc request from %s/%s: it asked for the answer on %r,"
                        " but a device only gets answers on %r", where.site, where.device,
                        message.response_topic, expected)
            return None
        response = rpc.handle(message.payload, where.site, where.device)
        props = Properties(PacketTypes.PUBLISH)
        if message.correlation is not None:
            props.CorrelationData = message.correlation
        return self._publish(expected, encode(response), properties=props)
