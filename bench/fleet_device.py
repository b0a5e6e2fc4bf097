"""A light device for bench/fleet.py: one paho client speaking the contract, no agent.

It does what a terminal does on the wire and nothing else: announces contract v1.1
(`ack_batch` in its retained status and last will), publishes txns with QoS 1 and keeps
each until an ack names it (sending it again after `resend_after_s`, as the outbox does),
asks `auth` over rpc/req with Response Topic and Correlation Data, and for the raw
reference publishes QoS 1 messages that an echo client returns on its rpc/res.

Hundreds of these share one thread: `SelectorLoop` drives their sockets with one
`selectors` loop through paho's external-loop hooks (loop_read, loop_write, loop_misc and
the socket register callbacks), instead of a network thread per client, which would
starve two cores before the broker did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import selectors
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import uuid6
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contract import (
    AuthParams,
    AuthRequest,
    ContractError,
    JobInfo,
    StatusPayload,
    TxnPayload,
    decode_acks,
    decode_response,
    encode,
    topic,
)
from tests.mosquitto import password_of

RAW_PREFIX = b"raw "


@dataclass(frozen=True)
class Person:
    """Someone who signs in at the terminals: always a card, sometimes also a code."""

    user: str
    card: str
    code: str | None = None


@dataclass
class Tally:
    """What one phase saw at one worker; merged across workers by bench/fleet.py."""

    name: str
    start: float
    end: float
    sent: int = 0
    done_in_window: int = 0  # applied acks (or raw echoes) received between start and end
    latencies_ms: list[float] = field(default_factory=list)
    auth_ms: dict[str, list[float]] = field(default_factory=lambda: {"card": [], "code": []})
    auth_wrong: int = 0
    auth_unanswered: int = 0
    resends: int = 0
    duplicate_acks: int = 0
    applied_twice: int = 0
    rejected: int = 0
    unacked: int = 0
    disconnects: int = 0

    def done(self, now: float) -> None:
        if self.start <= now <= self.end:
            self.done_in_window += 1


@dataclass
class _Outstanding:
    payload: bytes
    first_sent: float
    last_sent: float


class SelectorLoop:
    """Many paho clients on one `selectors` loop: paho tells us when a socket opens, closes
    or has bytes to write; we call loop_read/loop_write when the selector says so."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()

    def attach(self, client: mqtt.Client) -> None:
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._wrote

    def _opened(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sel.register(sock, selectors.EVENT_READ, client)

    def _closed(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(sock)

    def _want_write(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)

    def _wrote(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.modify(sock, selectors.EVENT_READ, client)

    def poll(self, timeout: float) -> None:
        for key, mask in self.sel.select(timeout):
            client: mqtt.Client = key.data
            if mask & selectors.EVENT_READ:
                client.loop_read()
            if mask & selectors.EVENT_WRITE:
                client.loop_write()


class LightDevice:
    """One terminal on the wire. `tally()` gives the current phase's counters; `on_settled`
    is called when one of its txns (or raw messages) came back, to send the next."""

    def __init__(self, name: str, site: str, port: int, loop: SelectorLoop,
                 tally: Callable[[], Tally], resend_after_s: float) -> None:
        self.name, self.site, self.port = name, site, port
        self.tally, self.resend_after_s = tally, resend_after_s
        self.pending: dict[str, _Outstanding] = {}
        self.applied: set[str] = set()
        self.sent: dict[str, tuple[str, int]] = {}  # txn_id -> (user, amount), for the audit
        self.asking: dict[bytes, tuple[float, str, str]] = {}  # corr -> (sent, kind, user)
        self.raw_out: dict[int, float] = {}
        self.ready = False
        self.lost = False
        self.on_settled: Callable[[LightDevice], None] = lambda _d: None
        self._jobs = 0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fleet-{name}",
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.username_pw_set(name, password_of(name))
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.will_set(self._topic("status"), self._status(False), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        loop.attach(self.client)

    def _topic(self, kind: str) -> str:
        return topic(self.site, self.name, kind)  # type: ignore[arg-type]

    def _status(self, online: bool) -> bytes:
        return encode(StatusPayload(online=online, version="fleet-bench",
                                    since=dt.datetime.now(dt.UTC), ack_batch=True))

    def connect(self) -> None:
        self.client.connect("127.0.0.1", self.port, keepalive=60)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            raise RuntimeError(f"{self.name}: the broker refused the connection: {reason}")
        # the status first, as the agent does, so central batches this device's acks
        client.publish(self._topic("status"), self._status(True), qos=1, retain=True)
        client.subscribe([(self._topic("ack"), 1), (self._topic("rpc/res"), 1)])

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any],
                      _p: Any) -> None:
        if any(r.is_failure for r in reasons):
            raise RuntimeError(f"{self.name}: the broker refused a subscription: {reasons}")
        if not self.ready:
            self.ready = True
        else:  # a reconnect: whatever has no ack goes again, as the outbox does
            self.resend(force=True)

    def _on_disconnect(self, *_: Any) -> None:
        self.lost = True
        self.tally().disconnects += 1

    def tick(self) -> None:
        """Once a second: keepalive, resends, and a reconnect if the broker dropped us."""
        if self.lost:
            self.lost = False
            try:
                self.client.reconnect()
            except OSError:
                self.lost = True
            return
        self.client.loop_misc()
        self.resend()

    # sending -------------------------------------------------------------------------

    def send_txn(self, person: Person, rng: random.Random) -> None:
        """One print job's charge: 1-20 pages, a fifth of them colour, some duplex."""
        self._jobs += 1
        pages = rng.randint(1, 20)
        color = rng.random() < 0.2
        duplex = rng.random() < 0.5
        amount = -pages * (25 if color else 5)
        txn_id = uuid.UUID(str(uuid6.uuid7()))
        payload = encode(TxnPayload(
            txn_id, self.site, self.name, "print", person.user, amount, "EUR",
            dt.datetime.now(dt.UTC), job=JobInfo(
                f"{self.name}-{self._jobs}", "Lecture notes week 7.pdf", self.name, pages,
                (pages + 1) // 2 if duplex else pages, color, duplex, amount)))
        now = time.monotonic()
        key = str(txn_id)
        self.pending[key] = _Outstanding(payload, now, now)
        self.sent[key] = (person.user, amount)
        self.tally().sent += 1
        self.client.publish(self._topic("txn"), payload, qos=1)

    def ask_auth(self, person: Person, by_code: bool) -> None:
        params = AuthParams(code=person.code) if by_code else AuthParams(card=person.card)
        corr = uuid.uuid4().bytes
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self._topic("rpc/res")
        props.CorrelationData = corr
        self.asking[corr] = (time.monotonic(), "code" if by_code else "card", person.user)
        self.client.publish(self._topic("rpc/req"), encode(AuthRequest(params)), qos=1,
                            properties=props)

    def send_raw(self, seq: int, padding: bytes) -> None:
        self.raw_out[seq] = time.monotonic()
        self.tally().sent += 1
        self.client.publish(self._topic("printer"), RAW_PREFIX + b"%d " % seq + padding, qos=1)

    def resend(self, force: bool = False) -> None:
        now = time.monotonic()
        for out in self.pending.values():
            if force or now - out.last_sent >= self.resend_after_s:
                out.last_sent = now
                self.tally().resends += 1
                self.client.publish(self._topic("txn"), out.payload, qos=1)

    # receiving -----------------------------------------------------------------------

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if msg.topic.endswith("/ack"):
            self._acks(bytes(msg.payload), now)
        elif msg.payload.startswith(RAW_PREFIX):
            sent = self.raw_out.pop(int(msg.payload.split(b" ", 2)[1]), None)
            if sent is not None:
                tally = self.tally()
                tally.latencies_ms.append((now - sent) * 1000)
                tally.done(now)
                self.on_settled(self)
        else:
            self._answer(msg, now)

    def _acks(self, payload: bytes, now: float) -> None:
        tally = self.tally()
        try:
            acks = decode_acks(payload)
        except ContractError as exc:
            raise RuntimeError(f"{self.name}: central sent an ack we cannot read: {exc}"
                               ) from None
        for ack in acks:
            txn_id = str(ack.txn_id)
            if ack.status == "rejected":
                tally.rejected += 1
            elif ack.status == "duplicate":
                tally.duplicate_acks += 1
            elif txn_id in self.applied:
                tally.applied_twice += 1
            else:
                self.applied.add(txn_id)
            out = self.pending.pop(txn_id, None)
            if out is not None:
                tally.latencies_ms.append((now - out.first_sent) * 1000)
                if ack.status == "applied":
                    tally.done(now)
                self.on_settled(self)

    def _answer(self, msg: mqtt.MQTTMessage, now: float) -> None:
        corr = getattr(msg.properties, "CorrelationData", None) or b""
        asked = self.asking.pop(corr, None)
        tally = self.tally()
        if asked is None:
            tally.auth_wrong += 1
            return
        sent, kind, user = asked
        answer = decode_response(bytes(msg.payload))
        result = getattr(answer, "result", None)
        if result is None or result.username != user:
            tally.auth_wrong += 1
        tally.auth_ms[kind].append((now - sent) * 1000)
