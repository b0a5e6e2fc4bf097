"""Everything the agent needs of central, built from the [mqtt] and [identity] config."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import aiomqtt
import msgspec

from agent.api.payloads import PrinterStatus
from agent.config import mqtt_password
from agent.config_models import AgentConfig
from agent.ledger import Ledger
from agent.sync.central_directory import CentralDirectory
from agent.sync.link import CentralLink, LinkSettings
from agent.sync.offline_cache import OfflineCache, load_secret
from agent.sync.outbox import Ack, OutboxSender
from agent.sync.rpc import RpcClient
from contract.codec import encode
from contract.payloads import PrinterPayload

log = logging.getLogger("pagetally.sync")


class CentralSync:
    def __init__(self, config: AgentConfig, ledger: Ledger) -> None:
        m, ident = config.mqtt, config.identity
        self.ledger = ledger
        self.link = CentralLink(LinkSettings(
            host=m.host, port=m.port or 1883, site=config.device.site, device=config.device.id,
            username=m.username or config.device.id, password=mqtt_password(config),
            client_id=m.client_id, keepalive=m.keepalive_s, backoff_min_s=m.reconnect_min_s,
            backoff_max_s=m.reconnect_max_s, tls=m.tls, ca_file=m.ca_file,
            cert_file=m.cert_file, key_file=m.key_file))
        self.outbox = OutboxSender(ledger, self.link, window=m.outbox_window,
                                   resend_after_s=m.resend_after_s, on_acks=self._acked)
        self.rpc = RpcClient(self.link, timeout_s=m.request_timeout_s)
        cache_path = Path(ident.offline_cache)
        cache = OfflineCache(cache_path, load_secret(cache_path.with_suffix(".key")),
                             max_users=ident.offline_cache_max_users,
                             max_age_s=ident.offline_cache_max_age_s)
        self.directory = CentralDirectory(self.rpc, cache, ledger,
                                          auth_timeout_s=ident.auth_timeout_s,
                                          offline_credit=ident.offline_credit)
        self.link.on_connect(lambda: setattr(self.directory, "answering", True))
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def online(self) -> bool:
        return self.directory.online

    def kick(self) -> None:
        self.outbox.kick()

    def publish_printer(self, view: PrinterStatus) -> None:
        """The retained `printer` topic (QoS 0) for dashboards; skipped while offline."""
        if not self.link.connected.is_set():
            return
        counters = {k: v for k, v in msgspec.structs.asdict(view.counters).items()
                    if isinstance(v, int) and v >= 0}
        payload = PrinterPayload(status=view.state, alerts=[a.text for a in view.alerts],
                                 counters=counters, at=dt.datetime.now(dt.UTC))
        task = asyncio.create_task(self._publish_printer(encode(payload)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish_printer(self, data: bytes) -> None:
        try:
            await self.link.publish("printer", data, qos=0, retain=True)
        except aiomqtt.MqttError as exc:
            log.info("printer state not published: %s", exc)

    def _acked(self, acks: list[Ack]) -> None:
        """Central's balance after the newest acked txn of each user (rejects carry none)."""
        balances = {}
        for txn_id, status, balance in acks:
            user = self.ledger.txn_user(txn_id)
            if user is not None and status != "rejected":
                balances[user] = balance
        self.directory.note_balances(balances)

    def tasks(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.link.run(), name="mqtt-link"),
                asyncio.create_task(self.outbox.run(), name="outbox"),
                asyncio.create_task(self.outbox.run_acks(), name="outbox-acks")]
