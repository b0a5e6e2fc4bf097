"""Everything central runs on its clock, for the one scheduler: quotas, member syncs and
the daily fee run, each with its time setting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from central.feerun import DEFAULT_RUN_AT, RUN_AT_SETTING, run_fees
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


@dataclass
class FeeRunJob:
    """The daily fee run; it leaves a report even when the site's switch turns fees off."""

    at: str
    kind: str = "feerun"
    crash: Callable[[str], None] = field(default=lambda step: None, repr=False)
    """Tests stop the run at a named step, as a crash would."""

    def due(self, now: dt.datetime, tz: ZoneInfo) -> tuple[str, Due] | None:
        found = latest_due(Spec("daily", self.at), now, tz)
        return (found.key("feerun"), found) if found else None

    def run(self, ledger: Ledger, key: str, due: Due, owner: str, now: dt.datetime) -> str:
        source = open_source(ledger)
        assert source is not None  # all_jobs only schedules the fee run when one is set
        self.crash("claimed")
        report = run_fees(ledger, source, key, due.day, self.crash).to_json()
        ledger.finish_run(key, owner, report)
        return report


def all_jobs(ledger: Ledger) -> list[Job]:
    """Quotas always; the member sync and the fee run once the first sync is done."""
    jobs = quota_jobs(ledger)
    source = open_source(ledger)
    if source is not None and not first_sync_pending(ledger, source):
        jobs.append(SyncJob(ledger.get_setting(SYNC_AT_SETTING) or DEFAULT_SYNC_AT))
        jobs.append(FeeRunJob(ledger.get_setting(RUN_AT_SETTING) or DEFAULT_RUN_AT))
    return jobs
