"""Which other jobs printed during ours, read from the simulator over real IPP.

The agent lists the live jobs and one page of the newest completed ones, so its memory does
not grow with the device's job history; these tests give it a long history, a crowded
window and a printer that lists its history oldest first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from agent.metering.history import HISTORY_PAGE, Metered, interleaved_jobs
from drivers.ipp.client import IppClient
from drivers.ipp.models import JobInfo
from simulator.client import SimClient
from tests.helpers import SimHandle, start_sim

FAST = 60_000  # pages per minute: one millisecond a page, so long histories are cheap


class CountingClient(IppClient):
    """The real client, noting each Get-Jobs asked and how many jobs came back."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.calls: list[tuple[str, int | None, int]] = []

    async def jobs(self, which: str = "not-completed", user: str | None = None,
                   limit: int | None = None) -> list[JobInfo]:
        listed = await super().jobs(which, user, limit)
        self.calls.append((which, limit, len(listed)))
        return listed


@pytest.fixture
def fast_sim() -> Iterator[SimHandle]:
    handle = start_sim(ppm=FAST)
    yield handle
    handle.child.stop()


@pytest.fixture
def oldest_first_sim() -> Iterator[SimHandle]:
    handle = start_sim("--get-jobs-oldest-first", ppm=FAST)
    yield handle
    handle.child.stop()


async def history(sim: SimClient, jobs: int) -> None:
    """`jobs` finished walk-up copies, then a pause: IPP times count in deciseconds, so the
    window must open in a later decisecond than the history ends."""
    last = 0
    for _ in range(jobs):
        last = sim.copy(1)
    sim.wait_job(last, ("completed",))
    await asyncio.sleep(0.2)


def own_job(sim: SimClient, pages: int = 3) -> int:
    return sim.submit("mine.pdf", "alice", pages, hold=False)


async def copy_in_window(sim: SimClient, history_jobs: int, copy_pages: int
                         ) -> tuple[datetime, int, int]:
    """A history, then our window opens and our job and a walk-up copy print in it.
    Returns the window's start, our job's id and the copy's, both finished."""
    await history(sim, history_jobs)
    since = datetime.now(UTC)
    own = own_job(sim)
    copy = sim.copy(copy_pages)
    sim.wait_job(own, ("completed",))
    sim.wait_job(copy, ("completed",))
    return since, own, copy


async def test_copy_in_window_found_with_long_history(fast_sim: SimHandle) -> None:
    sim = SimClient(fast_sim.control)
    since, own, copy = await copy_in_window(sim, 3 * HISTORY_PAGE, 2)
    async with CountingClient(fast_sim.ipp) as device:
        found = await interleaved_jobs(device, own, since, datetime.now(UTC))
    assert found == [f"Copy #{copy} (2 pages)"]
    assert device.calls == [("not-completed", None, 0),
                            ("completed", HISTORY_PAGE, HISTORY_PAGE)]


async def test_quiet_window_is_clean_and_bounded(fast_sim: SimHandle) -> None:
    sim = SimClient(fast_sim.control)
    await history(sim, 2 * HISTORY_PAGE)
    since = datetime.now(UTC)
    own = own_job(sim)
    sim.wait_job(own, ("completed",))
    async with CountingClient(fast_sim.ipp) as device:
        assert await interleaved_jobs(device, own, since, datetime.now(UTC)) == []
    assert [limit for _, limit, _ in device.calls] == [None, HISTORY_PAGE]


async def test_window_fuller_than_a_page_is_not_trusted(fast_sim: SimHandle) -> None:
    sim = SimClient(fast_sim.control)
    await history(sim, 5)
    since = datetime.now(UTC)
    own = own_job(sim, pages=2)
    copies = [sim.copy(1) for _ in range(HISTORY_PAGE + 5)]
    sim.wait_job(own, ("completed",))
    sim.wait_job(copies[-1], ("completed",))
    async with CountingClient(fast_sim.ipp) as device:
        found = await interleaved_jobs(device, own, since, datetime.now(UTC))
    assert found[-1] == (f"{HISTORY_PAGE} or more device jobs ended since this job started; "
                         f"only the newest {HISTORY_PAGE} were listed")
    listed = found[:-1]  # the newest copies; our own job may take one place on the page
    assert set(listed) <= {f"Copy #{c} (1 pages)" for c in copies}
    assert HISTORY_PAGE - 1 <= len(listed) <= HISTORY_PAGE
    assert f"Copy #{copies[-1]} (1 pages)" in listed
    assert len(device.calls) == 2


async def test_oldest_first_printer_is_read_whole(oldest_first_sim: SimHandle,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    sim = SimClient(oldest_first_sim.control)
    total = HISTORY_PAGE + 10
    since, own, copy = await copy_in_window(sim, total, 4)
    with caplog.at_level(logging.WARNING, logger="pagetally.metering"):
        async with CountingClient(oldest_first_sim.ipp) as device:
            for _ in range(2):
                found = await interleaved_jobs(device, own, since, datetime.now(UTC))
                assert found == [f"Copy #{copy} (4 pages)"]
    assert device.calls[:3] == [("not-completed", None, 0),
                                ("completed", HISTORY_PAGE, HISTORY_PAGE),
                                ("completed", None, total + 2)]
    warnings = [r.getMessage() for r in caplog.records if "oldest first" in r.getMessage()
                or "newest first" in r.getMessage()]
    assert warnings == [f"printer {oldest_first_sim.ipp} does not list completed jobs newest "
                        "first; reading its whole job history after each job that needs it"]


async def test_short_history_needs_no_order(oldest_first_sim: SimHandle) -> None:
    """A page that is not full is the whole history, whatever its order."""
    sim = SimClient(oldest_first_sim.control)
    since, own, copy = await copy_in_window(sim, 3, 1)
    async with CountingClient(oldest_first_sim.ipp) as device:
        found = await interleaved_jobs(device, own, since, datetime.now(UTC))
    assert found == [f"Copy #{copy} (1 pages)"]
    assert len(device.calls) == 2


async def test_jobs_a_listing_showed_ended_are_in_no_later_window() -> None:
    """On a printer that stamps no job times, any job in its history may have printed in
    any window, unless an earlier listing showed it ended: it printed nothing since. The
    page cannot be shown newest first there, so the whole history is read, and every job
    on it counts as ended, not only the first page's (found by bench.metering: past the
    64 settled jobs the ledger names, every job went to review)."""
    handle = start_sim("--profile", "no-job-times", ppm=FAST)
    try:
        sim = SimClient(handle.control)
        await history(sim, 2 * HISTORY_PAGE)
        first = own_job(sim)
        sim.wait_job(first, ("completed",))
        async with IppClient(handle.ipp) as device:
            ended: list[Metered] = []
            before = await interleaved_jobs(device, first, datetime.now(UTC),
                                            datetime.now(UTC), ended=ended)
            second = own_job(sim)
            sim.wait_job(second, ("completed",))
            after = await interleaved_jobs(device, second, datetime.now(UTC),
                                           datetime.now(UTC), ended)
    finally:
        handle.child.stop()
    assert before == [f"{2 * HISTORY_PAGE} device jobs with no times reported (#100, #99, "
                      f"#98, ...) may have printed in this window"]
    assert len(ended) == 2 * HISTORY_PAGE + 1
    assert after == []
