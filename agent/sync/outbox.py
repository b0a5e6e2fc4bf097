"""Publish the ledger's pending transactions until central acks each one.

The ledger is the queue: nothing lives only in memory. On every (re)connect all pending
rows are sent again in `seq` order; central is idempotent by txn_id and answers a repeat
with "duplicate", so a resend can never charge twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiomqtt

from agent.ledger import Ledger
from agent.sync.link import CentralLink
from agent.sync.payload import txn_payload
from contract.codec import ContractError, decode_ack, encode

log = logging.getLogger("pagetally.sync.outbox")

Ack = tuple[str, str, int]  # txn_id, status, central's balance after it


class OutboxSender:
    def __init__(self, ledger: Ledger, link: CentralLink, *, window: int = 500,
                 resend_after_s: float = 10.0,
                 on_acks: Callable[[list[Ack]], None] | None = None) -> None:
        self.ledger = ledger
        self.link = link
        self.window = window
        self.resend_after_s = resend_after_s
        self.on_acks = on_acks
        self._wake = asyncio.Event()
        self._sent: dict[str, float] = {}
        self._acks: list[Ack] = []
        self._ack_ready = asyncio.Event()
        link.on("ack", self._handle_ack)
        link.on_connect(self._reconnected)

    def kick(self) -> None:
        """Something new is in the outbox (or was acked): look again."""
        self._wake.set()

    def _reconnected(self) -> None:
        self._sent.clear()
        self.kick()

    async def _handle_ack(self, message: aiomqtt.Message) -> None:
        try:
            ack = decode_ack(bytes(message.payload))  # type: ignore[arg-type]
        except ContractError as exc:
            log.warning("ignored a bad ack from central: %s", exc)
            return
        if ack.status == "rejected":
            log.error("central rejected txn %s: %s", ack.txn_id, ack.reason)
        self._acks.append((str(ack.txn_id), ack.status, ack.balance))
        self._ack_ready.set()

    async def run_acks(self) -> None:
        """Write acks in batches: one SQLite commit for everything that arrived meanwhile."""
        while True:
            await self._ack_ready.wait()
            self._ack_ready.clear()
            batch, self._acks = self._acks, []
            self.ledger.mark_acked(batch)  # type: ignore[arg-type]
            for txn_id, _, _ in batch:
                self._sent.pop(txn_id, None)
            if self.on_acks is not None:
                self.on_acks(batch)
            self.kick()

    async def run(self) -> None:
        while True:
            await self.link.connected.wait()
            try:
                await self._send_pending()
            except aiomqtt.MqttError as exc:
                log.info("outbox paused: %s", exc)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.resend_after_s / 2)
            except TimeoutError:
                pass

    async def _send_pending(self) -> None:
        """Publish what is due, at most `window` unacked at once, all in flight together."""
        now = time.monotonic()
        pending = self.ledger.pending_outbox(limit=self.window + len(self._sent))
        due, in_flight = [], 0
        for txn in pending:
            sent = self._sent.get(txn.txn_id)
            if sent is not None and now - sent < self.resend_after_s:
                in_flight += 1
            else:
                due.append(txn)
        batch = due[:max(self.window - in_flight, 0)]
        for txn in batch:
            self._sent[txn.txn_id] = now
        site, device = self.link.s.site, self.link.s.device
        await asyncio.gather(*(
            self.link.publish("txn", encode(txn_payload(txn, site=site, device=device)), qos=1)
            for txn in batch
        ))
