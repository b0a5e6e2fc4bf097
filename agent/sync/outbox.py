"""Publish the ledger's pending transactions until central acks each one.

The ledger is the queue: nothing lives only in memory. On every (re)connect all pending
rows are sent again in `seq` order; central is idempotent by txn_id and answers a repeat
with "duplicate", so a resend can never charge twice.

Throughput comes from four things: up to `window` txns in flight at once (central's ack,
not the broker's PUBACK, is what frees a slot, so the sender never waits on PUBACKs); the
ledger is re-read only when half the window is free, and then only for txns newer than the
last one sent (everything pending only when a resend is due); acks are committed in batches
on a worker thread, so the loop keeps reading acks during each fsync and the next batch is
larger; and while a central instance takes them (contract v1.2), the txns due at once go
out in batches of up to `batch` per message, so a backlog costs the client and the broker a
packet pair per batch instead of per txn. Nothing waits to fill a batch: a lone txn goes
alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiomqtt

from agent.ledger import Ledger, Txn
from agent.sync.link import CentralLink
from agent.sync.payload import txn_payload
from contract.codec import ContractError, decode_acks, decode_resend, encode
from contract.payloads import MAX_TXN_BATCH, TxnBatch
from contract.topics import RESEND_TOPIC

log = logging.getLogger("pagetally.sync.outbox")

Ack = tuple[str, str, int]  # txn_id, status, central's balance after it
IDLE_POLL_S = 1.0  # look at the outbox at least this often, even if nobody kicks us
#: After a (re)connect central may not be subscribed yet (it reconnects on its own backoff)
#: and the broker drops what it gets meanwhile, so the first resend comes soon and the wait
#: then doubles up to `resend_after_s`.
FIRST_RESEND_S = 1.0


class OutboxSender:
    def __init__(self, ledger: Ledger, link: CentralLink, *, window: int = 500,
                 batch: int = 100, resend_after_s: float = 10.0,
                 on_acks: Callable[[list[Ack]], None] | None = None) -> None:
        if not 1 <= batch <= MAX_TXN_BATCH:
            raise ValueError(f"batch must be 1 to {MAX_TXN_BATCH} txns, not {batch}")
        self.ledger = ledger
        self.link = link
        self.window = window
        self.batch = batch
        self.resend_after_s = resend_after_s
        self._resend_s = resend_after_s  # the current wait before a resend
        self.on_acks = on_acks
        self._wake = asyncio.Event()
        self._sent: dict[str, float] = {}  # txn_id -> when last published on this connection
        self._high_seq = 0  # the newest txn published on this connection
        self._acks: list[Ack] = []
        self._ack_ready = asyncio.Event()
        self._ledger_turn = asyncio.Lock()  # one ledger call at a time, each on a thread
        link.on("ack", self._handle_ack)
        link.on_central(RESEND_TOPIC, self._handle_resend)
        link.on_connect(self._reconnected)

    def kick(self) -> None:
        """Something new is in the outbox (or was acked): look again."""
        self._wake.set()

    def _reconnected(self) -> None:
        self._sent.clear()
        self._high_seq = 0
        self._resend_s = min(FIRST_RESEND_S, self.resend_after_s)
        self.kick()

    async def _handle_ack(self, message: aiomqtt.Message) -> None:
        """One ack (v1) or a batch of them (v1.1). A message we cannot read changes nothing:
        its txns stay pending and are sent again, and central acks them as duplicates."""
        try:
            acks = decode_acks(bytes(message.payload))
        except ContractError as exc:
            log.warning("ignored a bad ack from central: %s", exc)
            return
        for ack in acks:
            if ack.status == "rejected":
                log.error("central rejected txn %s: %s", ack.txn_id, ack.reason)
            self._acks.append((str(ack.txn_id), ack.status, ack.balance))
        self._ack_ready.set()

    async def _handle_resend(self, message: aiomqtt.Message) -> None:
        """Central's ledger was restored to an earlier point: send again what it may lack.
        Each request is acted on once; the broker repeats the retained one at every connect,
        and an empty payload is the request cleared."""
        payload = bytes(message.payload)
        if not payload:
            return
        try:
            request = decode_resend(payload)
        except ContractError as exc:
            log.warning("ignored a resend request from central: %s", exc)
            return
        async with self._ledger_turn:
            count = await asyncio.to_thread(self.ledger.resend_since,
                                            str(request.request_id), request.since)
        if count is None:
            return
        log.warning("central asked again for every txn since %s (its ledger was restored):"
                    " sending %d acknowledged txn(s) again", request.since.isoformat(), count)
        self._high_seq = 0  # they are older than anything sent on this connection
        self.kick()

    async def run_acks(self) -> None:
        """Commit acks in batches: everything that arrived during the previous commit."""
        while True:
            await self._ack_ready.wait()
            self._ack_ready.clear()
            async with self._ledger_turn:
                batch, self._acks = self._acks, []
                await asyncio.to_thread(self.ledger.mark_acked, batch)  # type: ignore[arg-type]
                for txn_id, _, _ in batch:
                    self._sent.pop(txn_id, None)
            if self.on_acks is not None:
                self.on_acks(batch)
            self.kick()

    async def run(self) -> None:
        while True:
            await self.link.connected.wait()
            self._wake.clear()
            try:
                await self._send_due()
            except aiomqtt.MqttError as exc:
                log.info("outbox paused: %s", exc)
            # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancel that
            # arrives together with a kick, and the task then never stops
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(IDLE_POLL_S, self._resend_s / 2)):
                    await self._wake.wait()

    async def _send_due(self) -> None:
        """Publish what is due, keeping at most `window` unacked txns in flight."""
        now = time.monotonic()
        overdue = any(now - sent >= self._resend_s for sent in self._sent.values())
        if len(self._sent) > self.window // 2 and not overdue:
            return  # plenty in flight: re-read the ledger when half the window is free
        # only what is newer than anything sent, unless something waits to be sent again
        after, most = ((0, self.window + len(self._sent)) if overdue
                       else (self._high_seq, self.window - len(self._sent)))
        async with self._ledger_turn:  # on a thread, so acks keep arriving meanwhile
            pending = await asyncio.to_thread(self.ledger.pending_outbox, most,
                                              after_seq=after)
        if not self.link.connected.is_set():
            return
        arrived = {txn_id for txn_id, _, _ in self._acks}  # acked, not yet committed
        pending = [t for t in pending if t.txn_id not in arrived]
        now = time.monotonic()
        in_flight = sum(1 for sent in self._sent.values() if now - sent < self._resend_s)
        room = self.window - in_flight
        due: list[Txn] = []
        again = 0
        for txn in pending:
            if len(due) >= room:
                break
            sent = self._sent.get(txn.txn_id)
            if sent is not None and now - sent < self._resend_s:
                continue
            again += sent is not None
            self._sent[txn.txn_id] = now
            due.append(txn)
        self._high_seq = max([self._high_seq, *(t.seq for t in due)])
        self._publish(due)
        if again:
            log.info("no ack from central after %.0f s for %d txn(s): sent them again",
                     self._resend_s, again)
            self._resend_s = min(self._resend_s * 2, self.resend_after_s)

    def _publish(self, due: list[Txn]) -> None:
        """One `txn` message per txn, or (v1.2) `txns` messages of up to `batch` each."""
        site, device = self.link.s.site, self.link.s.device
        payloads = [txn_payload(txn, site=site, device=device) for txn in due]
        if len(payloads) > 1 and self.batch > 1 and self.link.central.take_batches:
            for start in range(0, len(payloads), self.batch):
                part = payloads[start:start + self.batch]
                if len(part) == 1:
                    self.link.publish_nowait("txn", encode(part[0]))
                else:
                    self.link.publish_nowait("txns", encode(TxnBatch(part)))
            return
        for payload in payloads:
            self.link.publish_nowait("txn", encode(payload))
