"""Which jobs Get-Jobs lists, and in what order (RFC 8011 §4.2.6.2).

'completed' jobs come newest to oldest by actual completion time, so a client asking with
`limit` gets the latest history, not the oldest. 'not-completed' jobs come in the order the
engine will finish them. 'all' (PWG 5100.7) has no order in the standards; here it is the
one list then the other, so a `limit` keeps the live jobs and then the latest history.

Walk-up copies are listed too (a real MFD shows them in its job log), though they are not
IPP jobs: Get-Job-Attributes and the job operations do not know them.
"""

from __future__ import annotations

from drivers.ipp.tags import JobState
from simulator.engine import Engine
from simulator.model import SimJob


def _expected_rank(engine: Engine, job: SimJob) -> tuple[int, int]:
    """Sort key for 'not-completed': the job on the engine first, then the one a copy
    interrupted, then queued copies (they go before any print job), then print jobs ready
    to go, jobs still waiting for their document, held jobs; each group by job-id."""
    if job is engine.current:
        rank = 0
    elif job.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
        rank = 1
    elif job.origin == "copy":
        rank = 2
    elif job.state == JobState.PENDING:
        rank = 4 if job.awaiting_document else 3
    else:
        rank = 5
    return rank, job.id


def listed_jobs(engine: Engine, which: str, *, oldest_first: bool = False) -> list[SimJob]:
    """Jobs for Get-Jobs `which-jobs` in listing order.

    `oldest_first` is the device quirk of listing completed jobs oldest first, as some
    printers do; the agent must notice it and not trust a limited listing."""
    jobs = engine.jobs.values()
    active = sorted((j for j in jobs if not j.state.terminal),
                    key=lambda j: _expected_rank(engine, j))
    done = sorted((j for j in jobs if j.state.terminal),
                  key=lambda j: (j.completed_at or 0.0, j.id), reverse=not oldest_first)
    if which == "completed":
        return done
    if which == "not-completed":
        return active
    return active + done
