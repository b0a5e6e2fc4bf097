"""The device's job history, read in bounded pages: which other jobs printed in our window,
and which device job a CUPS queue forwarded ours as.

RFC 8011 §4.2.6.2 lists completed jobs newest first, so one page of them reaches back past
a job that just ended; a printer that lists them oldest first is noticed and read whole.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise

from drivers.ipp.client import IppClient
from drivers.ipp.models import JobInfo

log = logging.getLogger("pagetally.metering")

HISTORY_PAGE = 50
"""Completed jobs asked for per settle. RFC 8011 §4.2.6.2 lists them newest first, so the
page reaches back past our window unless dozens of jobs ended inside it, and that case is
caught (below) rather than assumed clean. Measured with tracemalloc against the simulator
holding 1,001 jobs: one listing of the whole history peaked at 5.2 MB, these two listings
(live jobs, one page) at 0.27 MB, whatever the history's length."""

_read_whole_history: set[str] = set()  # printers already logged as listing oldest first


def _ipp_time(at: datetime) -> datetime:
    """IPP dateTime counts in deciseconds, so the device's times are truncated: our window
    start is truncated alike, or a copy ending in the decisecond it opened would be missed."""
    return at.replace(microsecond=at.microsecond - at.microsecond % 100_000)


def newest_first(page: list[JobInfo]) -> bool:
    """Every job on the page has a completion time, and the times never rise."""
    ends = [job.completed_at for job in page if job.completed_at is not None]
    return len(ends) == len(page) and not any(a < b for a, b in pairwise(ends))


def jobs_in_window(jobs: Iterable[JobInfo], own_id: int, since: datetime,
                   until: datetime) -> list[str]:
    """Evidence lines for the jobs, other than ours, that printed between since and until.
    A job whose count the device does not report may have printed: it is listed too."""
    since = _ipp_time(since)
    others = []
    for job in jobs:
        if job.id == own_id or job.processing_at is None or job.impressions_completed == 0:
            continue
        ended = job.completed_at or until
        if job.processing_at <= until and ended >= since:
            pages = job.impressions_completed
            others.append(f"{job.name} #{job.id} "
                          f"({'pages not reported' if pages is None else f'{pages} pages'})")
    return others


def window_evidence(active: list[JobInfo], page: list[JobInfo], own_id: int,
                    since: datetime, until: datetime, size: int) -> list[str] | None:
    """`jobs_in_window` from the live jobs and one page (at most `size`) of completed ones.

    A page that is not full is the whole history. A full page proves nothing about older
    jobs unless it is newest first (times never rising) and reaches back before the window;
    our own job, which ended inside the window, must then be on it. A newest-first page
    that ended inside the window all along cannot clear it: that is evidence too. None:
    the order cannot be trusted, and the caller must read the whole history."""
    jobs = {job.id: job for job in active} | {job.id: job for job in page}
    others = jobs_in_window(jobs.values(), own_id, since, until)
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
                           until: datetime) -> list[str]:
    """Other jobs (prints or walk-up copies) the device processed during our window.

    Memory stays flat as the device's history grows: the live jobs plus one page of the
    newest completed ones. Live jobs are listed first, so a job that ends between the two
    requests is on the second listing rather than on neither."""
    active = await device.jobs("not-completed")
    page = await device.jobs("completed", limit=HISTORY_PAGE)
    found = window_evidence(active, page, own_id, since, until, HISTORY_PAGE)
    if found is not None:
        return found
    if device.uri not in _read_whole_history:
        _read_whole_history.add(device.uri)
        log.warning("printer %s does not list completed jobs newest first; reading its whole "
                    "job history after each job that needs it", device.uri)
    history = await device.jobs("completed")
    by_id = {job.id: job for job in active} | {job.id: job for job in history}
    return jobs_in_window(by_id.values(), own_id, since, until)
