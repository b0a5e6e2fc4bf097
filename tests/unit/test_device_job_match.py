"""Which device job a CUPS release printed as: claims from the ledger, and doubts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.ledger import Ledger
from agent.ledger.models import NewJob
from agent.metering.history import Metered, created_key, jobs_in_window
from agent.metering.holdqueue import pick_device_job
from drivers.ipp.models import JobInfo
from drivers.ipp.tags import JobState

RELEASE = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def device_job(job_id: int, after_s: float, name: str = "same.pdf") -> JobInfo:
    return JobInfo(id=job_id, name=name, user="alice", state=JobState.COMPLETED,
                   state_reasons=(), impressions=1, impressions_completed=1,
                   sheets_completed=1, copies=1, sides="one-sided", color=False, media=None,
                   hold_until=None, created_at=RELEASE + timedelta(seconds=after_s),
                   processing_at=None, completed_at=None)


QUEUED = device_job(40, -60)  # the CUPS job: its own id, created a minute before release


def test_one_unclaimed_job_since_the_release_is_certain() -> None:
    jobs = [device_job(7, -30), device_job(8, 0.5), device_job(9, 1, name="other.pdf")]
    match = pick_device_job(jobs, QUEUED, RELEASE - timedelta(seconds=2), set())
    assert match is not None and (match.job.id, match.doubt) == (8, None)


def test_a_claimed_job_is_never_taken_again() -> None:
    """The same document released twice: the first release's device job is claimed."""
    first, second = device_job(8, -1.5), device_job(9, 0.3)
    claimed = {(8, created_key(first))}
    match = pick_device_job([first, second], QUEUED, RELEASE - timedelta(seconds=2), claimed)
    assert match is not None and (match.job.id, match.doubt) == (9, None)


def test_same_id_after_a_power_cycle_is_another_job() -> None:
    """Printers renumber at power-up: a claim is the id and the creation time together."""
    old = device_job(3, -3600)
    new = device_job(3, 0.4)
    match = pick_device_job([new], QUEUED, RELEASE - timedelta(seconds=2),
                            {(3, created_key(old))})
    assert match is not None and match.job is new


def test_two_candidates_are_a_doubt_naming_both() -> None:
    match = pick_device_job([device_job(12, 0.5), device_job(11, 0.2)], QUEUED,
                            RELEASE - timedelta(seconds=2), set())
    assert match is not None and match.job.id == 11
    assert match.doubt == ("2 device jobs of alice named 'same.pdf' appeared after the "
                           "release (#11, #12); job #11 was taken")


def test_the_ledger_keeps_matches_and_lists_claims(tmp_path: Path) -> None:
    """A match survives a reopen (a restart), and the first match stands."""
    path = tmp_path / "ledger.db"
    with Ledger(path, device="d", site="s") as ledger:
        keys = [ledger.start_job(NewJob(printer="p", source="cups", queue_job_id=i,
                                        user="alice", name="same.pdf", impressions=1,
                                        color=False, duplex=False, media=None, estimate=10),
                                 {}) for i in (1, 2)]
        ledger.match_device_job(keys[0], 8, "2026-11-30T09:00:00+00:00")
        again = ledger.match_device_job(keys[0], 9, None, "a later guess")
        assert (again.device_job_id, again.match_doubt) == (8, None)
    with Ledger(path, device="d", site="s") as ledger:
        assert ledger.job(keys[0]).device_job_id == 8
        assert ledger.claimed_device_jobs("p", but=keys[1]) == {
            (8, "2026-11-30T09:00:00+00:00")}
        assert ledger.claimed_device_jobs("p", but=keys[0]) == set()
        assert ledger.claimed_device_jobs("other-printer", but=keys[1]) == set()


def test_an_earlier_settled_release_is_in_no_later_window_even_without_times() -> None:
    """A printer with no job times: our previous job would count as possibly inside the
    window (and send every second job to review) unless known as already metered."""
    earlier = replace(device_job(7, -5), created_at=None, processing_at=None,
                      completed_at=None, impressions_completed=None)
    copy = replace(earlier, id=8, name="Copy", user="walk-up")
    since, until = RELEASE, RELEASE + timedelta(seconds=30)
    alone = jobs_in_window([earlier, copy], 9, since, until)
    assert sorted(line.split(" (")[0] for line in alone) == ["Copy #8", "same.pdf #7"]
    metered = [Metered(7, None, "alice", "same.pdf")]
    known = jobs_in_window([earlier, copy], 9, since, until, metered)
    assert [line.split(" (")[0] for line in known] == ["Copy #8"]
    # the same id after a power cycle, as a walk-up copy: not ours, so still counted
    reused = replace(copy, id=7)
    assert [line.split(" (")[0] for line in
            jobs_in_window([reused], 9, since, until, metered)] == ["Copy #7"]
