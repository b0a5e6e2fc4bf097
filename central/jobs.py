"""Everything central runs on its clock, for the one scheduler: quotas, member syncs and
the daily fee run, each with its time setting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from central.members.config import open_source
from central.members.sync import first_sync_pending, sync
from central.schedule import Due, Spec, latest_due
from central.scheduler import Job, quota_jobs
from central.storage.base import Ledger

SYNC_AT_SETTING = "membership.sync_at"
DEFAULT_SYNC_AT = "07:00"


@dataclass
class SyncJob:
    """The daily member sync; it never does the first sync, which needs an admin."""

    at: str
    kind: str = "sync"

    def due(self, now: dt.datetime, tz: ZoneInfo) -> tuple[str, Due] | None:
        found = latest_due(Spec("daily", self.at), now, tz)
        return (found.key("sync"), found) if found else None

    def run(self, ledger: Ledger, key: str, due: Due, owner: str, now: dt.datetime) -> str:
        source = open_source(ledger)
        assert source is not None  # all_jobs only schedules a sync when one is set
        report = sync(ledger, source).report
        ledger.finish_run(key, owner, report)
        return report


def all_jobs(ledger: Ledger) -> list[Job]:
    jobs = quota_jobs(ledger)
    source = open_source(ledger)
    if source is not None and not first_sync_pending(ledger, source):
        jobs.append(SyncJob(ledger.get_setting(SYNC_AT_SETTING) or DEFAULT_SYNC_AT))
    return jobs
