"""One scheduler for everything central does on a clock: quotas, member syncs, the fee run.

Each tick asks every job for its latest due occurrence and its key (what, for which period),
then claims the key in the database. The claim is the once-only guarantee: the key is a
primary key, so of two central instances (or a `schedule run-due` from cron beside the
service) one runs it and the others see it taken. A claim is a lease: an instance that dies
half way stops renewing it, and the next tick anywhere takes the run over and finishes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from central.quotas import postings, report, run_key, spec_of
from central.schedule import Due, latest_due, zone
from central.storage.base import ApplyResult, Ledger
from central.storage.records import Quota

log = logging.getLogger("pagetally.central.scheduler")
LEASE_S = 600.0
TIMEZONE_SETTING = "timezone"


class Job(Protocol):
    kind: str

    def due(self, now: dt.datetime, tz: ZoneInfo) -> tuple[str, Due] | None:
        """The key and occurrence of the latest due run, or None."""
        ...

    def run(self, ledger: Ledger, key: str, due: Due, owner: str, now: dt.datetime) -> str:
        """Do the run and mark it done (`ledger.finish_run`); return its report."""
        ...


@dataclass
class QuotaJob:
    quota: Quota
    kind: str = "quota"

    def due(self, now: dt.datetime, tz: ZoneInfo) -> tuple[str, Due] | None:
        found = latest_due(spec_of(self.quota), now, tz, not_before=self.quota.created_at)
        return (run_key(self.quota, found), found) if found else None

    def run(self, ledger: Ledger, key: str, due: Due, owner: str, now: dt.datetime) -> str:
        members = ledger.group_members(self.quota.group)
        texts: list[str] = []

        def describe(results: list[ApplyResult]) -> str:
            texts.append(report(self.quota, due, [(u, r.status, r.balance) for u, r
                                                  in zip(members, results, strict=True)]))
            return texts[0]

        ledger.finish_run(key, owner, describe, postings(self.quota, key, members, now))
        return texts[0]


def quota_jobs(ledger: Ledger) -> list[Job]:
    return [QuotaJob(q) for q in ledger.quotas()]


def site_zone(ledger: Ledger) -> ZoneInfo:
    return zone(ledger.get_setting(TIMEZONE_SETTING) or "UTC")


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Outcome:
    key: str
    kind: str
    report: str = ""
    error: str = ""


class Scheduler:
    """Runs what is due, once. `clock` is injectable so tests control time."""

    def __init__(self, ledger: Ledger, jobs: Callable[[Ledger], list[Job]],
                 owner: str | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 lease_s: float = LEASE_S) -> None:
        self.ledger = ledger
        self.jobs = jobs
        self.owner = owner or default_owner()
        self.clock = clock
        self.lease_s = lease_s

    def tick(self) -> list[Outcome]:
        tz = site_zone(self.ledger)
        now = self.clock()
        due_jobs = [(found, job) for job in self.jobs(self.ledger)
                    if (found := job.due(now, tz)) is not None]
        # In the order they fell due: a "reset to" at 07:00 and an "add" at 08:00 that both
        # caught up after downtime apply as they would have on time.
        due_jobs.sort(key=lambda item: (item[0][1].at, item[0][0]))
        outcomes = []
        for (key, due), job in due_jobs:
            now = self.clock()
            claim = self.ledger.claim_run(key, job.kind, due.at, self.owner, now, self.lease_s)
            if claim != "claimed":
                continue
            log.info("running %s (due %s)", key, due.at.isoformat())
            try:
                outcomes.append(Outcome(key, job.kind, job.run(self.ledger, key, due,
                                                               self.owner, now)))
            except Exception as exc:  # one failed run must not stop the others
                log.exception("run %s failed; it is retried after its lease ends", key)
                outcomes.append(Outcome(key, job.kind, error=str(exc)))
        return outcomes
