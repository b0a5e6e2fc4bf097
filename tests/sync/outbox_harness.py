"""The agent's outbox alone (link, sender, ack writer) against a real broker and central
(the `broker` and `central` fixtures are in conftest.py), and the checks its tests share."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from agent.ledger import Ledger
from agent.sync.link import CentralLink, LinkSettings
from agent.sync.outbox import OutboxSender
from tests.central.conftest import CentralRunner
from tests.mosquitto import Mosquitto, password_of
from tests.sync.conftest import DEVICE, SITE, wait_until


@contextlib.asynccontextmanager
async def outbox(ledger: Ledger, broker: Mosquitto) -> AsyncIterator[OutboxSender]:
    link = CentralLink(LinkSettings("127.0.0.1", broker.port, SITE, DEVICE, DEVICE,
                                    password_of(DEVICE), backoff_min_s=0.05,
                                    backoff_max_s=0.5))
    sender = OutboxSender(ledger, link, window=500, resend_after_s=2.0)
    tasks = [asyncio.create_task(c) for c in (link.run(), sender.run(), sender.run_acks())]
    try:
        await asyncio.wait_for(link.connected.wait(), 10)
        yield sender
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll on a thread, so the agent's tasks run meanwhile."""
    await asyncio.to_thread(wait_until, check, timeout, what)


def pending(db: Path) -> int:
    """Unacked outbox rows, read on a connection of our own (the agent's is busy)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        return int(con.execute("SELECT COUNT(*) FROM txns WHERE outbox = 'pending'")
                   .fetchone()[0])


def central_held(central: CentralRunner) -> list[str]:
    ledger = central.ledger()
    try:
        return [r.txn_id for r in ledger.all_transactions() if r.device == DEVICE]
    finally:
        ledger.close()
