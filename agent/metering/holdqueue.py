"""Where held jobs wait: the device's own hold queue, or a CUPS queue in front of it.

Both are IPP; they differ in where the job prints. With CUPS the device sees a new job,
found by user and name after release, and that device job carries the per-job count.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Protocol

from agent.metering.history import HISTORY_PAGE, newest_first
from drivers.ipp.client import IppClient
from drivers.ipp.models import JobInfo

CLAIMED_KEEP = 64
"""Device jobs already matched to a CUPS job, by (job-id, creation time): a user releasing
the same document twice must not have the second copy metered from the first. Job ids
alone would not do; many printers restart their numbering at power-up."""


class HoldQueue(Protocol):
    source: str
    printer: IppClient

    async def held_jobs(self, user: str) -> list[JobInfo]: ...
    async def release(self, job_id: int) -> None: ...
    async def cancel(self, job_id: int) -> None: ...
    async def queue_job(self, job_id: int) -> JobInfo: ...
    async def device_job(self, queued: JobInfo, released_at: datetime,
                         known_id: int | None) -> JobInfo | None: ...


class DeviceHoldQueue:
    """Jobs held on the printer itself: the queue job is the device job."""

    source = "device"

    def __init__(self, device: IppClient) -> None:
        self.held = device  # where jobs wait
        self.printer = device  # where they print: here, the same printer

    async def held_jobs(self, user: str) -> list[JobInfo]:
        return await self.held.held_jobs(user)

    async def release(self, job_id: int) -> None:
        await self.held.release(job_id)

    async def cancel(self, job_id: int) -> None:
        await self.held.cancel(job_id)

    async def queue_job(self, job_id: int) -> JobInfo:
        return await self.held.job(job_id)

    async def device_job(self, queued: JobInfo, released_at: datetime,
                         known_id: int | None) -> JobInfo | None:
        return await self.held.job(queued.id)


class CupsHoldQueue(DeviceHoldQueue):
    """Jobs held in a CUPS queue that forwards to the device once released."""

    source = "cups"

    def __init__(self, cups: IppClient, device: IppClient) -> None:
        self.held = cups
        self.printer = device
        self._claimed: deque[tuple[int, datetime | None]] = deque(maxlen=CLAIMED_KEEP)

    async def device_job(self, queued: JobInfo, released_at: datetime,
                         known_id: int | None) -> JobInfo | None:
        """The device job CUPS forwarded ours as: the user's first job of the same name since
        the release that no earlier job claimed. Its live jobs first, then one page of its
        newest completed ones; the whole history only from a printer that does not list
        them newest first."""
        if known_id is not None:
            return await self.printer.job(known_id)
        since = released_at - timedelta(seconds=2)
        found = self._first_match(await self.printer.jobs("not-completed", user=queued.user),
                                  queued, since)
        if found is None:
            page = await self.printer.jobs("completed", user=queued.user, limit=HISTORY_PAGE)
            if len(page) == HISTORY_PAGE and not newest_first(page):
                page = await self.printer.jobs("completed", user=queued.user)
            found = self._first_match(page, queued, since)
        if found is not None:
            self._claimed.append((found.id, found.created_at))
        return found

    def _first_match(self, jobs: list[JobInfo], queued: JobInfo, since: datetime
                     ) -> JobInfo | None:
        candidates = [j for j in jobs
                      if j.name == queued.name and (j.id, j.created_at) not in self._claimed
                      and (j.created_at or datetime.now(UTC)) >= since]
        return min(candidates, key=lambda j: j.id) if candidates else None
