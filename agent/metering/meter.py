"""The print queue of one printer: released jobs are metered one at a time.

Jobs go one at a time, so the counter delta of each belongs to it alone. Each lives the
session life (agent/session/life.py: snapshot → release → follow → settle, each step in
the ledger before the next) with the print job's evidence (`print_job.py`); `run` first
resumes any job a crash left unfinished.
"""

from __future__ import annotations

import asyncio

from agent.api.methods import JOB_PROGRESS, Notify
from agent.api.payloads import JobStatus
from agent.ledger import Ledger
from agent.ledger.models import NewJob
from agent.metering.follower import FollowResult, Progress
from agent.metering.holdqueue import HoldQueue
from agent.metering.poller import PrinterPoller
from agent.metering.print_job import MeterSettings, Opened, PrintJobEvidence
from agent.metering.probe import DeviceProbe
from agent.metering.retry import RetryBudget
from agent.pricing import PriceTable
from agent.session.life import Retry, SessionLife
from drivers.ipp.client import IppError


class Meter:
    def __init__(self, *, ledger: Ledger, queue: HoldQueue, probe: DeviceProbe,
                 poller: PrinterPoller, prices: PriceTable, settings: MeterSettings,
                 notify: Notify) -> None:
        self.ledger = ledger
        self.jobs = PrintJobEvidence(ledger=ledger, queue=queue, probe=probe, poller=poller,
                                     prices=prices, settings=settings, notify=notify)
        retry = Retry(faults=(IppError,), interval=settings.retry_interval,
                      budget=lambda: RetryBudget(settings.refused_tries,
                                                 settings.give_up_after),
                      give_up=self.jobs.give_up)
        self.life = SessionLife[Opened, FollowResult, None, JobStatus](
            self.jobs, notify=notify, progress=JOB_PROGRESS, retry=retry)
        self._todo: asyncio.Queue[str] = asyncio.Queue()

    def enqueue(self, job: NewJob) -> str:
        """Record the user's release (state snapshotting) and queue it for the printer."""
        job_key = self.ledger.start_job(job, {})
        self.jobs.progress[job_key] = Progress(total=job.impressions, state="queued")
        self._todo.put_nowait(job_key)
        return job_key

    def in_flight(self) -> set[int]:
        """Queue job ids released here and not yet settled (they may still look held)."""
        return {row.queue_job_id for row in self.ledger.unfinished()}

    def request_cancel(self, job_key: str) -> None:
        self.jobs.cancel.add(job_key)

    async def run(self) -> None:
        """Resume what a crash left, then meter released jobs forever, one at a time."""
        await self.life.recover()
        while True:
            await self.life.live(await self._todo.get())

    def status(self, job_key: str) -> JobStatus:
        return self.jobs.status(job_key)
