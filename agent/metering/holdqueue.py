"""Where held jobs wait: the device's own hold queue, or a CUPS queue in front of it.

Both are IPP; they differ in where the job prints. With CUPS the device sees a new job,
found by user and name after release, and that device job carries the per-job count.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from agent.documents import DocumentPages
from agent.estimate import job_impressions
from agent.ledger.models import Source
from agent.metering.history import HISTORY_PAGE, created_key, newest_first
from drivers.ipp.client import IppClient
from drivers.ipp.models import JobInfo

MATCH_SLACK = timedelta(seconds=2)
"""A forwarded device job may look created a little before the release: printers keep job
times to the second, and the device clock's offset is known to half a round trip."""

Claimed = set[tuple[int, str | None]]
"""Device jobs other releases printed as, by (job-id, creation time as `created_key` gives
it): job ids alone would not do, as many printers restart their numbering at power-up."""


@dataclass(frozen=True)
class DeviceMatch:
    """The device job a release printed as; `doubt` says why it may be another's."""

    job: JobInfo
    doubt: str | None = None


class HoldQueue(Protocol):
    source: Source
    printer: IppClient

    async def held_jobs(self, user: str) -> list[JobInfo]: ...
    async def all_held(self) -> list[JobInfo]: ...
    async def release(self, job_id: int) -> None: ...
    async def cancel(self, job_id: int) -> None: ...
    async def queue_job(self, job_id: int) -> JobInfo: ...
    async def match_device_job(self, queued: JobInfo, released_at: datetime,
                               claimed: Claimed) -> DeviceMatch | None: ...


class DeviceHoldQueue:
    """Jobs held on the printer itself: the queue job is the device job."""

    source: Source = "device"

    def __init__(self, device: IppClient) -> None:
        self.held = device  # where jobs wait
        self.printer = device  # where they print: here, the same printer

    async def held_jobs(self, user: str) -> list[JobInfo]:
        return await self.held.held_jobs(user)

    async def all_held(self) -> list[JobInfo]:
        """Every user's held jobs, as the queue lists them (no pages counted)."""
        return await self.held.held_jobs()

    async def release(self, job_id: int) -> None:
        await self.held.release(job_id)

    async def cancel(self, job_id: int) -> None:
        await self.held.cancel(job_id)

    async def queue_job(self, job_id: int) -> JobInfo:
        return await self.held.job(job_id)

    async def match_device_job(self, queued: JobInfo, released_at: datetime,
                               claimed: Claimed) -> DeviceMatch | None:
        return DeviceMatch(await self.held.job(queued.id))


class CupsHoldQueue(DeviceHoldQueue):
    """Jobs held in a CUPS queue that forwards to the device once released."""

    source: Source = "cups"

    def __init__(self, cups: IppClient, device: IppClient,
                 documents: DocumentPages | None = None) -> None:
        self.held = cups
        self.printer = device
        self.documents = documents or DocumentPages(cups)

    async def held_jobs(self, user: str) -> list[JobInfo]:
        """The user's held jobs, each with the impressions its documents count to, or None
        where they cannot be counted: CUPS counts no pages of a held job, and a client's
        job-impressions is only its word."""
        jobs = await self.held.held_jobs(user)
        pages = await asyncio.gather(*(self.documents.pages(job) for job in jobs))
        return [replace(job, impressions=None if n is None else job_impressions(n, job.copies))
                for job, n in zip(jobs, pages, strict=True)]

    async def match_device_job(self, queued: JobInfo, released_at: datetime,
                               claimed: Claimed) -> DeviceMatch | None:
        """The device job CUPS forwarded ours as: the user's job of the same name created
        since the release that no other release claimed, from its live jobs and one page of
        its newest completed ones (the whole history from a printer that does not list them
        newest first). Two such jobs are a doubt, for review: both lists are read, so a job
        that finished while the agent was down is not missed beside a live one."""
        live = await self.printer.jobs("not-completed", user=queued.user)
        done = await self.printer.jobs("completed", user=queued.user, limit=HISTORY_PAGE)
        if len(done) == HISTORY_PAGE and not newest_first(done):
            done = await self.printer.jobs("completed", user=queued.user)
        seen = {(j.id, created_key(j)): j for j in (*live, *done)}  # the later read wins
        return pick_device_job(list(seen.values()), queued, released_at - MATCH_SLACK, claimed)


def pick_device_job(jobs: list[JobInfo], queued: JobInfo, since: datetime,
                    claimed: Claimed) -> DeviceMatch | None:
    """The lowest-numbered unclaimed job of the same name created since `since`."""
    candidates = sorted((j for j in jobs
                         if j.name == queued.name and (j.id, created_key(j)) not in claimed
                         and (j.created_at or datetime.now(UTC)) >= since),
                        key=lambda j: j.id)
    if not candidates:
        return None
    doubt = None
    if len(candidates) > 1:
        ids = ", ".join(f"#{j.id}" for j in candidates)
        doubt = (f"{len(candidates)} device jobs of {queued.user} named {queued.name!r} "
                 f"appeared after the release ({ids}); job #{candidates[0].id} was taken")
    return DeviceMatch(candidates[0], doubt)
