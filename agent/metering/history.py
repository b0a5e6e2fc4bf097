"""The device's job history, read in bounded pages: which other jobs printed in our window,
and which device job a CUPS queue forwarded ours as.

RFC 8011 §4.2.6.2 lists completed jobs newest first, so one page of them reaches back past
a job that just ended; a printer that lists them oldest first is noticed and read whole.

About half of real printers give job times only as time-at-* (seconds of up-time), so those
are placed on the device's clock through printer-up-time; a job whose times stay unknown
may have printed in any window and counts as inside ours: never generous.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from drivers.ipp.client import IppClient
from drivers.ipp.models import JobInfo
from drivers.ipp.tags import JobState

log = logging.getLogger("pagetally.metering")

HISTORY_PAGE = 50
"""Completed jobs asked for per settle. RFC 8011 §4.2.6.2 lists them newest first, so the
page reaches back past our window unless dozens of jobs ended inside it, and that case is
caught (below) rather than assumed clean. Measured with tracemalloc against the simulator
holding 1,001 jobs: one listing of the whole history peaked at 5.2 MB, these two listings
(live jobs, one page) at 0.27 MB, whatever the history's length."""

UPTIME_SLACK = timedelta(seconds=1)
"""time-at-* counts whole seconds: a placed start is moved this much earlier and a placed
end this much later, so the rounding can only widen a job, never shrink it out of a window."""

UNKNOWN_LISTED = 3
"""Jobs with unknown times named one by one in the evidence; more are counted in one line."""

_read_whole_history: set[str] = set()  # printers already logged as listing oldest first


def created_key(job: JobInfo) -> str | None:
    """A device job's creation time as the ledger keeps it beside the job-id."""
    return job.created_at.isoformat() if job.created_at else None


@dataclass(frozen=True)
class Metered:
    """A device job an earlier release on this printer printed as, and was settled from.
    Jobs are metered one at a time and settle only once it ended with the counters still,
    so it lies in no later job's window, even when the printer gives it no times. Matched
    by id, owner and name (and creation time where known): a walk-up copy never passes.
    Also any job an earlier settle's listing showed ended (a walk-up copy during that job):
    it printed nothing after that listing, which came before any later job's snapshot."""

    id: int
    created: str | None
    user: str
    name: str

    def matches(self, job: JobInfo) -> bool:
        if (job.id, job.user, job.name) != (self.id, self.user, self.name):
            return False
        return self.created is None or created_key(job) in (None, self.created)


def _ipp_time(at: datetime) -> datetime:
    """IPP dateTime counts in deciseconds, so the device's times are truncated: our window
    start is truncated alike, or a copy ending in the decisecond it opened would be missed."""
    return at.replace(microsecond=at.microsecond - at.microsecond % 100_000)


def newest_first(page: list[JobInfo]) -> bool:
    """Every job on the page has a completion time, and the times never rise."""
    ends = [job.completed_at for job in page if job.completed_at is not None]
    return len(ends) == len(page) and not any(a < b for a, b in pairwise(ends))


def needs_placing(job: JobInfo) -> bool:
    """The job has up-time stamps for steps its wall-clock times do not cover."""
    return ((job.created_at is None and job.created_uptime is not None)
            or (job.processing_at is None and job.processing_uptime is not None)
            or (job.completed_at is None and job.completed_uptime is not None))


def place_on_clock(job: JobInfo, up_now: int, device_now: datetime) -> JobInfo:
    """The job with each missing date-time-at-* filled in from its time-at-*: the moment
    `up_now - t` seconds before `device_now`, the device's clock when its up-time was
    `up_now`. Starts move UPTIME_SLACK earlier and the end as much later (whole seconds)."""
    def at(uptime: int | None, slack: timedelta) -> datetime | None:
        if uptime is None or uptime > up_now:  # stamped before a restart: unknown
            return None
        return device_now - timedelta(seconds=up_now - uptime) + slack

    return replace(
        job,
        created_at=job.created_at or at(job.created_uptime, -UPTIME_SLACK),
        processing_at=job.processing_at or at(job.processing_uptime, -UPTIME_SLACK),
        completed_at=job.completed_at or at(job.completed_uptime, UPTIME_SLACK),
    )


def _never_started(job: JobInfo) -> bool:
    """A job with no processing time that the printer would have stamped if it had
    started: it stamps the job's creation, and no processing on either clock."""
    stamped = job.created_at is not None or job.created_uptime is not None
    return (stamped and job.processing_uptime is None
            and job.state not in (JobState.PROCESSING, JobState.PROCESSING_STOPPED))


def jobs_in_window(jobs: Iterable[JobInfo], own_id: int, since: datetime,
                   until: datetime, metered: Sequence[Metered] = ()) -> list[str]:
    """Evidence lines for the jobs, other than ours, that printed between since and until.

    A job whose count the device does not report may have printed: it is listed too. So is
    a job whose times are unknown (the printer stamps nothing, or a job processing without
    a start time): it may have printed at any moment. A job the printer stamps but never
    started processing (RFC 8011: no-value until then) printed nothing."""
    since = _ipp_time(since)
    others, unknown = [], []
    for job in jobs:
        if (job.id == own_id or job.impressions_completed == 0
                or job.state in (JobState.PENDING, JobState.PENDING_HELD)
                or any(m.matches(job) for m in metered)):
            continue
        if job.processing_at is None:
            if not _never_started(job):
                unknown.append(job)
            continue
        ended = job.completed_at or until
        if job.processing_at <= until and ended >= since:
            others.append(f"{job.name} #{job.id} ({_pages(job)})")
    return [*others, *_unknown_lines(unknown)]


def _pages(job: JobInfo) -> str:
    pages = job.impressions_completed
    return "pages not reported" if pages is None else f"{pages} pages"


def _unknown_lines(jobs: list[JobInfo]) -> list[str]:
    """One line per job with unknown times, or one line for all when there are many."""
    if len(jobs) <= UNKNOWN_LISTED:
        return [f"{job.name} #{job.id} ({_pages(job)}; times not reported, may have printed "
                f"in this window)" for job in jobs]
    named = ", ".join(f"#{job.id}" for job in jobs[:UNKNOWN_LISTED])
    return [f"{len(jobs)} device jobs with no times reported ({named}, ...) may have "
            f"printed in this window"]


def window_evidence(active: list[JobInfo], page: list[JobInfo], own_id: int,
                    since: datetime, until: datetime, size: int,
                    metered: Sequence[Metered] = ()) -> list[str] | None:
    """`jobs_in_window` from the live jobs and one page (at most `size`) of completed ones.

    A page that is not full is the whole history. A full page proves nothing about older
    jobs unless it is newest first (times never rising) and reaches back before the window;
    our own job, which ended inside the window, must then be on it. A newest-first page
    that ended inside the window all along cannot clear it: that is evidence too. None:
    the order cannot be trusted, and the caller must read the whole history."""
    jobs = {job.id: job for job in active} | {job.id: job for job in page}
    others = jobs_in_window(jobs.values(), own_id, since, until, metered)
    if len(page) < size:
        return others
    oldest_end = page[-1].completed_at
    if oldest_end is None or not newest_first(page):
        return None
    if oldest_end >= _ipp_time(since):
        return [*others, f"{len(page)} or more device jobs ended since this job started; "
                         f"only the newest {len(page)} were listed"]
    if all(job.id != own_id for job in page):
        return None
    return others


async def interleaved_jobs(device: IppClient, own_id: int, since: datetime,
                           until: datetime, metered: Sequence[Metered] = (), *,
                           ended: list[Metered] | None = None) -> list[str]:
    """Other jobs (prints or walk-up copies) the device processed during our window.

    Memory stays flat as the device's history grows: the live jobs plus one page of the
    newest completed ones. Live jobs are listed first, so a job that ends between the two
    requests is on the second listing rather than on neither. `ended`, when given, is
    filled with the listed jobs that had ended: they printed nothing after this listing."""
    active = await device.jobs("not-completed")
    page = await device.jobs("completed", limit=HISTORY_PAGE)
    if ended is not None:
        ended[:] = [_ended(job) for job in page if job.terminal]
    active, page = await _placed(device, active, page)
    found = window_evidence(active, page, own_id, since, until, HISTORY_PAGE, metered)
    if found is not None:
        return found
    if device.uri not in _read_whole_history:
        _read_whole_history.add(device.uri)
        log.warning("printer %s does not list completed jobs newest first; reading its whole "
                    "job history after each job that needs it", device.uri)
    history = await device.jobs("completed")
    if ended is not None:
        ended[:] = [_ended(job) for job in history if job.terminal]
    active, history = await _placed(device, active, history)
    by_id = {job.id: job for job in active} | {job.id: job for job in history}
    return jobs_in_window(by_id.values(), own_id, since, until, metered)


def _ended(job: JobInfo) -> Metered:
    return Metered(job.id, created_key(job), job.user, job.name)


async def _placed(device: IppClient, *listings: list[JobInfo]) -> list[list[JobInfo]]:
    """The listings with time-at-* placed on the device's clock, when any job needs it.

    The reference is one Get-Printer-Attributes: printer-up-time with printer-current-time
    (our clock when the device's is absent or never set, as the probe's offset then is
    none). Without printer-up-time, a job's own job-printer-up-time is used with our clock.
    Jobs that cannot be placed keep their unknown times, which count as in the window."""
    if not any(needs_placing(job) for jobs in listings for job in jobs):
        return list(listings)
    printer = await device.printer()
    now = printer.current_time or datetime.now(UTC)

    def place(job: JobInfo) -> JobInfo:
        up_now = printer.up_time if printer.up_time is not None else job.printer_up_time
        if up_now is None or not needs_placing(job):
            return job
        return place_on_clock(job, up_now, now)

    return [[place(job) for job in jobs] for jobs in listings]
