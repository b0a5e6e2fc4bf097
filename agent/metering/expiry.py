"""Held jobs that nobody came for are deleted after a while, at no charge.

A hold queue that keeps every forgotten job fills the printer's memory (or CUPS's spool)
and the user's list. As PaperCut does (2 to 4 hours there), a held job older than
`[printer] hold_expiry_s` is cancelled; the ledger keeps a row for it, with no money,
so its owner is told on the panel why it is gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agent.estimate import two_sided
from agent.ledger import Ledger
from agent.ledger.models import NewJob
from agent.metering.holdqueue import HoldQueue
from drivers.ipp.client import IppError
from drivers.ipp.models import JobInfo

log = logging.getLogger("pagetally.metering")

SWEEP_MAX_S = 60.0


def overdue(jobs: list[JobInfo], now: datetime, expiry_s: float, busy: set[int]
            ) -> list[JobInfo]:
    """Held jobs created more than `expiry_s` before `now` (on the queue's clock), leaving
    out those being released. A job with no creation time is never taken for old."""
    limit = now - timedelta(seconds=expiry_s)
    return [j for j in jobs if j.created_at is not None and j.created_at < limit
            and j.id not in busy and j.state.name.lower() == "pending_held"]


class HoldExpiry:
    def __init__(self, *, ledger: Ledger, queue: HoldQueue, printer: str, expiry_s: float,
                 busy: Callable[[], set[int]], clock_offset: Callable[[], float]) -> None:
        self.ledger = ledger
        self.queue = queue
        self.printer = printer
        self.expiry_s = expiry_s
        self.busy = busy
        self.clock_offset = clock_offset
        """Seconds the queue's clock is ahead of ours: its job times are on its clock."""

    async def run(self) -> None:
        """Sweep the queue now and then, for ever; 0 s of expiry means never."""
        if self.expiry_s <= 0:
            return
        interval = min(SWEEP_MAX_S, self.expiry_s / 4)
        while True:
            try:
                await self.sweep()
            except IppError as exc:
                log.warning("cannot look for expired held jobs: %s", exc)
            await asyncio.sleep(interval)

    async def sweep(self) -> list[JobInfo]:
        """Record, then cancel, each overdue job: a crash between the two leaves the record,
        and the next sweep cancels the job without recording it again."""
        now = datetime.fromtimestamp(time.time() + self.clock_offset(), UTC)
        gone = overdue(await self.queue.all_held(), now, self.expiry_s, self.busy())
        for job in gone:
            self.ledger.record_expired(NewJob(
                printer=self.printer, source=self.queue.source,
                queue_job_id=job.id, user=job.user or "unknown", name=job.name,
                impressions=job.impressions or 0, color=job.color,
                duplex=two_sided(job.sides), media=job.media, estimate=0))
            await self.queue.cancel(job.id)
            log.info("held job %d (%s) of %s waited more than %.0f s: deleted at no charge",
                     job.id, job.name, job.user, self.expiry_s)
        return gone
