"""The agent's one MQTT connection to the broker: reconnect with backoff, status and will.

aiomqtt (an asyncio wrapper around paho-mqtt) keeps the agent single-threaded; the brief
warns against mixing paho's thread into the agent's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties

from agent.sync.central_status import CentralInstances
from contract.codec import encode
from contract.payloads import StatusPayload
from contract.topics import CENTRAL_SITE, CENTRAL_STATUS_SUBSCRIPTION, ROOT, topic
from contract.version import VERSION

log = logging.getLogger("pagetally.sync")

Handler = Callable[[aiomqtt.Message], Awaitable[None]]
CENTRAL_ROOT = f"{ROOT}/{CENTRAL_SITE}/"


@dataclass(frozen=True)
class LinkSettings:
    host: str
    port: int
    site: str
    device: str
    username: str | None = None
    password: str | None = None
    client_id: str = ""
    keepalive: int = 30
    backoff_min_s: float = 0.2
    backoff_max_s: float = 30.0
    #: QoS 1 publishes awaiting PUBACK; must not exceed the broker's max_inflight_messages
    #: (paho ignores the broker's Receive Maximum). 20 is both paho's and Mosquitto's default.
    max_inflight: int = 20
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""

    def tls_context(self) -> ssl.SSLContext | None:
        """The broker check (system CAs or `ca_file`) and, if set, our client certificate."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ca_file or None)
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


class CentralLink:
    def __init__(self, settings: LinkSettings) -> None:
        self.s = settings
        self.client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        #: Set once the first connection attempt has succeeded or failed, so a login at boot
        #: waits for it instead of wrongly reporting "offline".
        self.first_attempt_done = asyncio.Event()
        self.handlers: dict[str, Handler] = {}
        self.central = CentralInstances()
        self._on_connect: list[Callable[[], None]] = []

    def topic(self, kind: str) -> str:
        return topic(self.s.site, self.s.device, kind)  # type: ignore[arg-type]

    def on(self, kind: str, handler: Handler) -> None:
        self.handlers[self.topic(kind)] = handler

    def on_central(self, where: str, handler: Handler) -> None:
        """A handler for one of central's own topics, subscribed at every connect."""
        self.handlers[where] = handler

    def on_connect(self, callback: Callable[[], None]) -> None:
        self._on_connect.append(callback)

    def _status(self, online: bool) -> bytes:
        """Also the announcement that we read batched acks (contract v1.1): it is published,
        and retained, before any txn goes out on a connection, and the will keeps it, so
        central can batch from the first txn. A field in every txn would cost bytes on each
        one and, since v1 central refuses unknown fields, get every txn rejected by a central
        not yet upgraded; the status costs nothing, and a central that does not read it
        simply acks per txn, which we read too."""
        return encode(StatusPayload(online=online, version=VERSION,
                                    since=dt.datetime.now(dt.UTC), ack_batch=True))

    async def publish(self, kind: str, payload: bytes, *, qos: int = 1, retain: bool = False,
                      properties: Properties | None = None) -> None:
        if self.client is None or not self.connected.is_set():
            raise aiomqtt.MqttError("not connected to the broker")
        await self.client.publish(self.topic(kind), payload, qos=qos, retain=retain,
                                  properties=properties)

    def publish_nowait(self, kind: str, payload: bytes, *, qos: int = 1) -> None:
        """Queue a publish without waiting for its PUBACK.

        aiomqtt's `publish` waits for each PUBACK; the outbox waits for central's ack
        instead, so it hands the message straight to the paho client aiomqtt drives on
        this event loop (paho queues what exceeds its in-flight window).
        """
        if self.client is None or not self.connected.is_set():
            raise aiomqtt.MqttError("not connected to the broker")
        info = self.client._client.publish(self.topic(kind), payload, qos=qos)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "could not publish")

    async def _say_goodbye(self, client: aiomqtt.Client) -> None:
        """A clean disconnect does not fire the last will, so say "offline" ourselves."""
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(1.0):
                await client.publish(self.topic("status"), self._status(False), qos=1,
                                     retain=True)

    async def run(self) -> None:
        """Stay connected forever; each loss is logged once in plain words, then retried."""
        backoff = self.s.backoff_min_s
        while True:
            will = aiomqtt.Will(self.topic("status"), self._status(False), qos=1, retain=True)
            client = aiomqtt.Client(
                self.s.host, self.s.port, username=self.s.username, password=self.s.password,
                identifier=self.s.client_id or f"pagetally-{self.s.device}",
                protocol=aiomqtt.ProtocolVersion.V5, will=will, keepalive=self.s.keepalive,
                timeout=5, max_inflight_messages=self.s.max_inflight,
                tls_context=self.s.tls_context(),
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            )
            # paho calls this on the loop as each status arrives, not through the queue
            # aiomqtt's `messages` reads (which runs only after connect is done)
            client._client.message_callback_add(
                CENTRAL_STATUS_SUBSCRIPTION,
                lambda _c, _u, m: self.central.note(m.topic, bytes(m.payload)))
            try:
                async with client:
                    self.client = client
                    # first, so the instances' retained statuses are read (by the callback,
                    # as they arrive) before the next SUBACK, and the outbox's first send
                    # already knows whether central takes batched txns
                    self.central.forget()
                    await client.subscribe(CENTRAL_STATUS_SUBSCRIPTION, qos=0)
                    await client.subscribe(self.topic("ack"), qos=1)
                    await client.subscribe(self.topic("rpc/res"), qos=1)
                    for where in self.handlers:
                        if where.startswith(CENTRAL_ROOT):
                            await client.subscribe(where, qos=1)
                    await client.publish(self.topic("status"), self._status(True), qos=1,
                                         retain=True)
                    log.info("connected to the broker at %s:%d", self.s.host, self.s.port)
                    backoff = self.s.backoff_min_s
                    self.connected.set()
                    self.first_attempt_done.set()
                    for callback in self._on_connect:
                        callback()
                    try:
                        async for message in client.messages:
                            handler = self.handlers.get(str(message.topic))
                            if handler is not None:
                                await handler(message)
                    except asyncio.CancelledError:
                        await self._say_goodbye(client)
                        raise
            except aiomqtt.MqttError as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from exc  # aiomqtt turned our cancel into this
                if self.connected.is_set():
                    log.warning("lost the broker at %s:%d: %s", self.s.host, self.s.port, exc)
                else:
                    log.info("broker at %s:%d unreachable: %s; retrying in %.1f s",
                             self.s.host, self.s.port, exc, backoff)
            finally:
                self.connected.clear()
                self.client = None
                self.first_attempt_done.set()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.s.backoff_max_s)
