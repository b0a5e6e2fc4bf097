"""Central's enrolment listener: requests in, the broker's password file updated, answers out.

Separate from the ledger service (central/service.py): it touches no money, and a broker
host may run it beside Mosquitto, where the password file and the pid file are. Requests
are few and quick, so they are handled on paho's network thread, one at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.enrol import EnrolRefused, PasswordFile, check_account
from central.storage.enrol_tokens import TokenStore
from central.storage.sqldb import DatabaseError
from contract.enrol import (
    ENROL_SUBSCRIPTION,
    EnrolRequest,
    EnrolResponse,
    enrol_topic,
    parse_enrol_topic,
)

log = logging.getLogger("pagetally.central.enrol")


@dataclass
class Enroller:
    """The decision, apart from MQTT: request bytes → answer, with the side effects.

    The token store is opened on first use, on the thread that handles requests (paho's),
    since a SQLite connection belongs to the thread that made it; it lives as long as the
    process."""

    open_tokens: Callable[[], TokenStore]
    passwords: PasswordFile
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    _tokens: TokenStore | None = field(default=None, init=False)

    def handle(self, site: str, device: str, payload: bytes) -> EnrolResponse | None:
        """The answer, or None when the database cannot be reached: no answer makes the
        device try again later, where a refusal would stop it for good."""
        try:
            req = msgspec.json.decode(payload, type=EnrolRequest)
        except msgspec.DecodeError as exc:
            return EnrolResponse("refused", f"not an enrolment request: {exc}")
        try:
            check_account(device, req.password_hash)
            if self._tokens is None:
                self._tokens = self.open_tokens()
            self._tokens.redeem(req.token, site, device, req.password_hash, self.clock())
            self.passwords.set(device, req.password_hash)
        except EnrolRefused as exc:
            log.warning("enrolment of %s at %s refused: %s", device, site, exc)
            return EnrolResponse("refused", str(exc))
        except DatabaseError as exc:
            log.error("enrolment of %s at %s not answered: %s", device, site, exc)
            return None
        log.info("enrolled %s at %s", device, site)
        return EnrolResponse("enrolled")


@dataclass
class BrokerLogin:
    host: str
    port: int
    username: str
    password: str
    client_id: str = "pagetally-enrol"


class EnrolService:
    def __init__(self, enroller: Enroller, login: BrokerLogin) -> None:
        self.enroller = enroller
        self.login = login
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=login.client_id,
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.username_pw_set(login.username, login.password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object,
                    _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused central's enrolment login: %s", reason)
            return
        client.subscribe(ENROL_SUBSCRIPTION, qos=1)
        self.ready.set()

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        where = parse_enrol_topic(msg.topic)
        if where is None:
            return
        site, device = where
        answer = self.enroller.handle(site, device, bytes(msg.payload))
        if answer is None:
            return
        props = Properties(PacketTypes.PUBLISH)
        correlation = getattr(msg.properties, "CorrelationData", None)
        if correlation is not None:
            props.CorrelationData = correlation
        client.publish(enrol_topic(site, device, "res"), msgspec.json.encode(answer), qos=1,
                       properties=props)

    def run(self, stop: threading.Event) -> None:
        self.client.connect_async(self.login.host, self.login.port, keepalive=30)
        self.client.loop_start()
        try:
            stop.wait()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
