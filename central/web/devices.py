"""What the admin console knows of each terminal: its retained `status` and `printer` topics.

A paho client of its own (clean session, no shared subscription) in the web process: the
broker hands it every retained message on subscribe and each change after, so the devices
page needs no table at central. A payload that does not decode is kept as a plain-words
problem for that device instead of being dropped silently.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from central.service import set_nodelay
from contract import PrinterPayload, StatusPayload
from contract.codec import ContractError, decode
from contract.topics import CENTRAL_SITE, ROOT, TopicError, parse_topic

log = logging.getLogger("pagetally.central.web.devices")


@dataclass
class DeviceView:
    site: str
    device: str
    status: StatusPayload | None = None
    printer: PrinterPayload | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def online(self) -> bool:
        return bool(self.status and self.status.online)


class DeviceWatch:
    """Keeps the newest `status` and `printer` of every device, from the broker."""

    def __init__(self, host: str, port: int, username: str, password: str,
                 client_id: str = "pagetally-central-web") -> None:
        self._lock = threading.Lock()
        self._devices: dict[tuple[str, str], DeviceView] = {}
        self.connected = threading.Event()
        self._host, self._port = host, port
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                        protocol=MQTTProtocolVersion.MQTTv5)
        c.username_pw_set(username, password)
        c.reconnect_delay_set(1, 10)
        c.on_socket_open = set_nodelay
        c.on_connect = self._on_connect
        c.on_disconnect = lambda *_: self.connected.clear()
        c.on_message = self._on_message
        self._client = c

    def start(self) -> None:
        self._client.connect_async(self._host, self._port)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            log.error("the broker refused the devices watch: %s", reason)
            return
        client.subscribe([(f"{ROOT}/+/+/status", 1), (f"{ROOT}/+/+/printer", 0)])
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            where = parse_topic(msg.topic)
        except TopicError:
            return
        if where.site == CENTRAL_SITE:
            return
        with self._lock:
            view = self._devices.setdefault((where.site, where.device),
                                            DeviceView(where.site, where.device))
            if not msg.payload:  # a cleared retained message
                setattr(view, where.kind, None)
                return
            try:
                if where.kind == "status":
                    view.status = decode(bytes(msg.payload), StatusPayload, "the status")
                else:
                    view.printer = decode(bytes(msg.payload), PrinterPayload,
                                          "the printer state")
            except ContractError as exc:
                view.problems = [*view.problems[-4:], str(exc)]

    def devices(self) -> list[DeviceView]:
        with self._lock:
            return [DeviceView(v.site, v.device, v.status, v.printer, list(v.problems))
                    for _, v in sorted(self._devices.items())]
