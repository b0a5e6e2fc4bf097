"""A minimal device-side MQTT client for tests: publish txns, collect acks, make rpc calls."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contract import (
    AckPayload,
    RpcResponse,
    TxnPayload,
    decode_ack,
    decode_response,
    encode,
    topic,
)
from tests.mosquitto import Mosquitto, password_of


def make_txn(user: str, amount: int, *, device: str = "dev-a", site: str = "s1",
             type_: str = "print", **extra: Any) -> TxnPayload:
    return TxnPayload(uuid.uuid4(), site, device, type_, user, amount,  # type: ignore[arg-type]
                      "EUR", dt.datetime.now(dt.UTC), **extra)


class Device:
    """Connects as a device (username = device id) and listens on its own ack and rpc/res."""

    def __init__(self, broker: Mosquitto, device: str = "dev-a", site: str = "s1",
                 username: str | None = None) -> None:
        self.device, self.site = device, site
        user = username or device
        self.acks: dict[str, list[AckPayload]] = {}
        self.responses: dict[bytes, RpcResponse] = {}
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{device}-"
                                  f"{uuid.uuid4().hex[:6]}", protocol=MQTTProtocolVersion.MQTTv5)
        self.client.username_pw_set(user, password_of(user))
        self.client.on_socket_open = lambda _c, _u, s: s.setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect = lambda *_: self._notify()
        self.subscribed: list[bool] | None = None
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self._wait(lambda: self.client.is_connected(), 5.0, "connect")
        self.client.subscribe([(topic(site, device, "ack"), 1),
                               (topic(site, device, "rpc/res"), 1)])
        self._wait(lambda: self.subscribed is not None, 5.0, "SUBACK")

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any],
                      _p: Any) -> None:
        with self._cond:
            self.subscribed = [not r.is_failure for r in reasons]
            self._cond.notify_all()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            if msg.topic.endswith("/ack"):
                ack = decode_ack(msg.payload)
                self.acks.setdefault(str(ack.txn_id), []).append(ack)
            else:
                corr = getattr(msg.properties, "CorrelationData", None) or b""
                self.responses[corr] = decode_response(msg.payload)
            self._cond.notify_all()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _wait(self, check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.device}: no {what} within {timeout} s")
                self._cond.wait(min(left, 0.05))

    def publish(self, payload: bytes, kind: str = "txn", *, site: str | None = None,
                device: str | None = None) -> mqtt.MQTTMessageInfo:
        t = topic(site or self.site, device or self.device, kind)  # type: ignore[arg-type]
        return self.client.publish(t, payload, qos=1)

    def send(self, txn: TxnPayload) -> str:
        self.publish(encode(txn))
        return str(txn.txn_id)

    def wait_acks(self, txn_ids: list[str], timeout: float = 10.0) -> dict[str, AckPayload]:
        self._wait(lambda: all(t in self.acks for t in txn_ids), timeout,
                   f"acks for {len(txn_ids)} txns ({sum(t in self.acks for t in txn_ids)} came)")
        with self._cond:
            return {t: self.acks[t][-1] for t in txn_ids}

    def rpc(self, payload: bytes, timeout: float = 10.0,
            response_topic: str | None = None) -> RpcResponse:
        corr = uuid.uuid4().bytes
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic or topic(self.site, self.device, "rpc/res")
        props.CorrelationData = corr
        self.client.publish(topic(self.site, self.device, "rpc/req"), payload, qos=1,
                            properties=props)
        self._wait(lambda: corr in self.responses, timeout, "rpc response")
        with self._cond:
            return self.responses.pop(corr)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Observer:
    """An outside subscriber (user `observer`, read-only) that records what it sees."""

    def __init__(self, broker: Mosquitto, *filters: str, user: str = "observer") -> None:
        self.seen: list[mqtt.MQTTMessage] = []
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.username_pw_set(user, password_of(user))
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._add(None)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe([(f, 1) for f in filters])
        self.wait_for(lambda: self.subscribed, "SUBACK")

    subscribed = False

    def _add(self, msg: mqtt.MQTTMessage | None) -> None:
        with self._cond:
            if msg is None:
                self.subscribed = True
            else:
                self.seen.append(msg)
            self._cond.notify_all()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._add(msg)

    def wait_for(self, check: Any, what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"observer: no {what} within {timeout} s")
                self._cond.wait(min(left, 0.05))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
