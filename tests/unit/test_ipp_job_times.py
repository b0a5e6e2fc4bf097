"""Job times on printers that stamp jobs with up-time only (time-at-*), or not at all: the
interleave window places them on the device's clock, and an unknown time is never a reason
to leave a job out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from agent.metering.history import jobs_in_window, place_on_clock
from drivers.ipp.codec import decode
from drivers.ipp.models import JobInfo, job_from_group
from drivers.ipp.tags import GroupTag, JobState
from tests.realprinters.conftest import RECORDINGS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def copy_job(**times: int | None) -> JobInfo:
    """A walk-up copy of 3 pages stamped only with up-time (seconds)."""
    return JobInfo(
        id=9, name="Copy", user="", state=JobState.COMPLETED, state_reasons=(),
        impressions=None, impressions_completed=3, sheets_completed=None, copies=1,
        sides="one-sided", color=False, media=None, hold_until=None, created_at=None,
        processing_at=None, completed_at=None, created_uptime=times.get("created"),
        processing_uptime=times.get("processing"), completed_uptime=times.get("completed"))


def test_up_time_stamps_are_placed_on_the_device_clock() -> None:
    job = place_on_clock(copy_job(created=1000, processing=1001, completed=1010),
                         up_now=1100, device_now=NOW)
    assert job.processing_at == NOW - timedelta(seconds=99 + 1)  # 1 s earlier: whole seconds
    assert job.completed_at == NOW - timedelta(seconds=90 - 1)
    assert job.created_at == NOW - timedelta(seconds=100 + 1)


def test_a_copy_stamped_in_up_time_is_inside_the_window() -> None:
    """Before the fix such a copy had no processing time and was never listed: on a printer
    without per-job counts its pages were charged to the user whose job it interleaved."""
    copy = copy_job(created=1040, processing=1041, completed=1050)
    since, until = NOW - timedelta(seconds=70), NOW
    assert jobs_in_window([copy], 1, since, until) == [
        "Copy #9 (3 pages; times not reported, may have printed in this window)"]
    placed = place_on_clock(copy, up_now=1100, device_now=NOW)
    assert jobs_in_window([placed], 1, since, until) == ["Copy #9 (3 pages)"]
    assert jobs_in_window([placed], 1, NOW - timedelta(seconds=30), until) == []


def test_stamp_from_before_a_restart_stays_unknown() -> None:
    placed = place_on_clock(copy_job(processing=5000, completed=5010), up_now=100,
                            device_now=NOW)
    assert placed.processing_at is None
    assert jobs_in_window([placed], 1, NOW - timedelta(seconds=60), NOW) != []


def test_unknown_times_count_and_never_started_jobs_do_not() -> None:
    unknown = copy_job()
    printing = replace(copy_job(created=1000), state=JobState.PROCESSING)
    never_started = replace(copy_job(created=1000), impressions_completed=None,
                            state=JobState.CANCELED)  # stamped, never processing
    held = replace(copy_job(), id=12, state=JobState.PENDING_HELD)
    lines = jobs_in_window([unknown, printing, never_started, held], 1,
                           NOW - timedelta(seconds=60), NOW)
    assert len(lines) == 2 and all("#9" in line for line in lines)


def test_many_unknown_jobs_are_one_line() -> None:
    jobs = [replace(copy_job(), id=i) for i in range(10, 30)]
    [line] = jobs_in_window(jobs, 1, NOW - timedelta(seconds=60), NOW)
    assert line.startswith("20 device jobs with no times reported (#10, #11, #12, ...)")


def test_recorded_photosmart_job_is_placed_from_its_own_up_time() -> None:
    """HP Photosmart 6510 stamps a printing job with time-at-* and job-printer-up-time only."""
    path = RECORDINGS / "ipp/jipp/Photosmart_6510/Photosmart_6510.Get-Job-Attributes.rsp.bin"
    if not path.is_file():
        import pytest
        pytest.skip(f"the real-printer recordings folder {RECORDINGS} is absent")
    group = decode(path.read_bytes()).group(GroupTag.JOB)
    assert group is not None
    job = job_from_group(group)
    assert job.printer_up_time == 1203847 and job.processing_uptime == 1203809
    placed = place_on_clock(job, job.printer_up_time, NOW)
    assert placed.processing_at == NOW - timedelta(seconds=38 + 1)
    assert jobs_in_window([placed], 1, NOW - timedelta(seconds=20), NOW) == [
        f"{job.name} #14 (pages not reported)"]  # still processing: it overlaps the window
