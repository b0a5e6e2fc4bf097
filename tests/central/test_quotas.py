"""Quotas and the one scheduler: a controlled clock across time zones and DST changes."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest

from central import admin
from central.schedule import Due, ScheduleError, Spec, latest_due
from central.scheduler import QuotaJob, Scheduler, quota_jobs
from central.storage.base import Ledger, StorageError
from central.storage.ledger import SqlLedger
from central.storage.records import Quota
from tests.central.clock import Clock
from tests.central.conftest import Stores

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def ledger(stores: Stores) -> SqlLedger:
    led = SqlLedger(stores.url("q"))
    led.add_group("staff")
    led.add_group("lab")
    for name, groups in (("ann", ["staff"]), ("bo", ["staff", "lab"]), ("cy", [])):
        admin.add_user(led, name, name.title(), 0, restricted=True, credit_limit=0,
                       groups=groups)
    return led


def quota(name: str = "Weekly", group: str = "staff", **kw: object) -> Quota:
    fields: dict[str, object] = {"period": "daily", "amount": 100, "at": "07:30",
                                 "created_at": T0, **kw}
    return Quota(name, group, **fields)  # type: ignore[arg-type]


def balances(ledger: Ledger) -> dict[str, int]:
    return {a.username: a.balance for a in ledger.accounts()}


# --- when is a run due (pure) ---------------------------------------------------------------

def test_a_wall_time_that_never_happens_runs_when_the_clocks_skip_to_it() -> None:
    berlin, spec = ZoneInfo("Europe/Berlin"), Spec("daily", "02:30")
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    assert latest_due(spec, at("2026-03-29T01:29:00+00:00"), berlin) == Due(
        dt.date(2026, 3, 28), at("2026-03-28T02:30:00+01:00"))
    assert latest_due(spec, at("2026-03-29T01:30:00+00:00"), berlin) == Due(
        dt.date(2026, 3, 29), at("2026-03-29T03:30:00+02:00"))


def test_a_wall_time_that_happens_twice_is_one_day_and_one_key() -> None:
    berlin, spec = ZoneInfo("Europe/Berlin"), Spec("daily", "02:30")
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens at 00:30Z and 01:30Z.
    first = latest_due(spec, at("2026-10-25T00:31:00+00:00"), berlin)
    second = latest_due(spec, at("2026-10-25T01:31:00+00:00"), berlin)
    assert first == second == Due(dt.date(2026, 10, 25), at("2026-10-25T00:30:00+00:00"))
    assert first is not None and first.key("quota:x") == "quota:x:2026-10-25"


@pytest.mark.parametrize(("spec", "now", "day"), [
    (Spec("weekly", "09:00", weekday=0), "2026-03-04T12:00:00+00:00", "2026-03-02"),
    (Spec("weekly", "09:00", weekday=2), "2026-03-04T08:59:00+00:00", "2026-02-25"),
    (Spec("monthly", "00:00", monthday=31), "2026-03-15T00:00:00+00:00", "2026-02-28"),
    (Spec("monthly", "00:00", monthday=31), "2026-03-31T00:00:00+00:00", "2026-03-31"),
    (Spec("monthly", "06:00", monthday=1), "2026-01-01T05:00:00+00:00", "2025-12-01"),
])
def test_weekly_and_monthly_occurrences(spec: Spec, now: str, day: str) -> None:
    due = latest_due(spec, at(now), ZoneInfo("UTC"))
    assert due is not None and due.day.isoformat() == day


def test_a_run_from_before_the_schedule_existed_is_not_due() -> None:
    spec = Spec("daily", "07:30")
    created = at("2026-01-05T10:00:00+00:00")
    assert latest_due(spec, at("2026-01-05T12:00:00+00:00"), ZoneInfo("UTC"), created) is None
    assert latest_due(spec, at("2026-01-06T07:30:00+00:00"), ZoneInfo("UTC"),
                      created) is not None


@pytest.mark.parametrize(("kw", "message"), [
    ({"at": "7:30"}, "not a time of day"), ({"at": "24:00"}, "not a time of day"),
    ({"weekday": 7}, "weekday"), ({"monthday": 29}, "day of the month")])
def test_bad_schedules_are_refused_in_plain_words(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Spec("weekly", **kw)  # type: ignore[arg-type]


# --- quota runs, exactly once ----------------------------------------------------------------

@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Sydney",
                                "Asia/Kolkata", "Pacific/Chatham"])
def test_a_daily_quota_runs_once_a_day_at_its_local_time_through_dst(
        ledger: SqlLedger, tz: str) -> None:
    ledger.set_setting("timezone", tz)
    start = at("2026-03-25T00:00:00+00:00")
    ledger.add_quota(quota(at="02:30", created_at=start))  # skipped or doubled on DST days
    clock = Clock(start)
    scheduler = Scheduler(ledger, quota_jobs, clock=clock)
    local_times, keys = [], []
    while clock.now < at("2026-04-10T00:00:00+00:00"):  # covers the EU, US, AU, NZ changes
        for outcome in scheduler.tick():
            local_times.append(clock.now.astimezone(ZoneInfo(tz)))
            keys.append(outcome.key)
        clock.now += dt.timedelta(minutes=15)
    days = [t.date().isoformat() for t in local_times]
    assert keys == [f"quota:Weekly:{d}" for d in days]  # named after the local day it ran
    assert len(days) == len(set(days)) == 16, days  # one run per local day
    assert all(t.strftime("%H:%M") in ("02:30", "03:30") for t in local_times), local_times
    assert balances(ledger) == {"ann": 1600, "bo": 1600, "cy": 0}


def test_each_run_posts_an_automatic_adjustment_named_after_the_quota(
        ledger: SqlLedger) -> None:
    ledger.add_quota(quota("Staff daily", comment="Printing allowance"))
    ledger.add_quota(quota("Lab weekly", group="lab", period="weekly", amount=250,
                           weekday=T0.weekday()))
    Scheduler(ledger, quota_jobs, clock=Clock(at("2026-01-01T08:00:00+00:00"))).tick()
    assert balances(ledger) == {"ann": 100, "bo": 350, "cy": 0}  # the sum over bo's groups
    rows = {(r.system_note, r.comment, r.transacted_by, r.origin, r.type, r.amount)
            for r in ledger.transactions("bo")}
    assert rows == {("Staff daily", "Printing allowance", "schedule", "schedule",
                     "adjustment", 100),
                    ("Lab weekly", "", "schedule", "schedule", "adjustment", 250)}


def test_reset_to_and_the_cap(ledger: SqlLedger) -> None:
    admin.post(ledger, "ann", "adjustment", 730, note="x", comment="")
    ledger.add_quota(quota("Reset", mode="reset", amount=500))
    ledger.add_quota(quota("Capped", group="lab", amount=400, cap=600, at="07:45"))
    clock = Clock(at("2026-01-01T08:00:00+00:00"))
    scheduler = Scheduler(ledger, quota_jobs, clock=clock)
    scheduler.tick()
    assert balances(ledger) == {"ann": 500, "bo": 600, "cy": 0}  # bo: reset to 5.00, +1.00
    clock.now += dt.timedelta(days=1)
    scheduler.tick()
    assert balances(ledger) == {"ann": 500, "bo": 600, "cy": 0}
    report = ledger.get_run("quota:Reset:2026-01-02")
    assert report is not None and '"unchanged": 1' in report.report


def test_missed_runs_catch_up_once_after_downtime(ledger: SqlLedger) -> None:
    ledger.add_quota(quota())
    scheduler = Scheduler(ledger, quota_jobs, clock=Clock(at("2026-01-10T12:00:00+00:00")))
    assert [o.key for o in scheduler.tick()] == ["quota:Weekly:2026-01-10"]
    assert scheduler.tick() == []
    assert balances(ledger)["ann"] == 100


def test_two_instances_racing_run_it_once(ledger: SqlLedger) -> None:
    ledger.add_quota(quota())
    clock = Clock(at("2026-01-01T08:00:00+00:00"))
    barrier = threading.Barrier(4)
    outcomes: list[int] = []

    def race(n: int) -> None:
        led = SqlLedger(ledger.url)  # each instance has its own connection
        barrier.wait()
        outcomes.append(len(Scheduler(led, quota_jobs, owner=f"i{n}", clock=clock).tick()))
        led.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [0, 0, 0, 1]
    assert balances(ledger) == {"ann": 100, "bo": 100, "cy": 0}


def test_a_run_whose_instance_died_is_taken_over_after_its_lease(ledger: SqlLedger) -> None:
    ledger.add_quota(quota())
    clock = Clock(at("2026-01-01T08:00:00+00:00"))

    class Dies(QuotaJob):
        def run(self, *args: object) -> str:
            raise KeyboardInterrupt  # the process goes away after its claim, before posting

    with pytest.raises(KeyboardInterrupt):
        Scheduler(ledger, lambda led: [Dies(q) for q in led.quotas()], owner="a",
                  clock=clock, lease_s=300).tick()
    other = Scheduler(ledger, quota_jobs, owner="b", clock=clock, lease_s=300)
    assert other.tick() == []  # the lease still holds
    clock.now += dt.timedelta(seconds=301)
    assert [o.key for o in other.tick()] == ["quota:Weekly:2026-01-01"]
    assert balances(ledger) == {"ann": 100, "bo": 100, "cy": 0}
    with pytest.raises(StorageError, match="no longer held by a"):
        ledger.finish_run("quota:Weekly:2026-01-01", "a", "late")
    assert balances(ledger) == {"ann": 100, "bo": 100, "cy": 0}


def test_a_bad_time_zone_setting_is_named(ledger: SqlLedger) -> None:
    ledger.set_setting("timezone", "Mars/Olympus")
    with pytest.raises(ScheduleError, match="'Mars/Olympus' is not a time zone"):
        Scheduler(ledger, quota_jobs).tick()
