"""The daily fee run against the OfficeRnD stand-in: once, with a crash at every step."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from central import admin, feerun
from central.feerun import FEES_SETTING
from central.jobs import FeeRunJob, all_jobs
from central.members import config
from central.members.sync import sync
from central.scheduler import Job, Scheduler
from central.storage.base import Ledger
from central.storage.ledger import SqlLedger
from tests.central.clock import Clock
from tests.central.conftest import Stores
from tests.central.mqtt_client import make_txn
from tests.central.officernd_standin import StandIn

RUN_AT = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC)  # 07:30 in Berlin
KEY = "feerun:2026-03-02"
OWED = {"ann@x.org": 734, "bob@x.org": 1, "cy@x.org": 12_000}


class Crash(BaseException):
    """The process dies here (raised past every `except Exception`)."""


@pytest.fixture
def standin() -> Iterator[StandIn]:
    s = StandIn().start()
    s.add_company("c1", "Acme")
    for n, email in enumerate(("ann@x.org", "bob@x.org", "cy@x.org", "di@x.org")):
        s.add_member(f"m{n}", email.split("@")[0].title(), email,
                     company="c1" if n % 2 else None)
    yield s
    s.stop()


@pytest.fixture
def ledger(stores: Stores, tmp_path: Path, standin: StandIn) -> SqlLedger:
    led = SqlLedger(stores.url("fees"))
    led.set_setting("timezone", "Europe/Berlin")
    secret = tmp_path / "ornd.secret"
    secret.write_text(standin.client_secret)
    config.set_officernd(led, standin.org, standin.client_id, secret, standin.url,
                         standin.url)
    sync(led, config.open_source(led))  # type: ignore[arg-type]
    for user, owed in OWED.items():
        assert led.apply_txn(make_txn(user, -owed), "dev-a").status == "applied"
    admin.add_user(led, "walkin", "Walk In", -250, restricted=True, credit_limit=0, groups=[])
    return led


def balances(ledger: Ledger) -> dict[str, int]:
    return {a.username: a.balance for a in ledger.accounts()}


def fees_by_member(standin: StandIn) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for fee in standin.fees:
        out.setdefault(fee["member"], []).append(fee["price"])
    return out


EXPECTED_FEES = {"m0": ["7.34"], "m1": ["0.01"], "m2": ["120"]}


def assert_billed_once(ledger: Ledger, standin: StandIn) -> None:
    assert fees_by_member(standin) == EXPECTED_FEES
    assert balances(ledger) == {"ann@x.org": 0, "bob@x.org": 0, "cy@x.org": 0, "di@x.org": 0,
                                "walkin": -250}
    rows = [r for r in ledger.all_transactions() if r.origin == "fee_run"]
    assert sorted(r.amount for r in rows) == sorted(OWED.values())
    fee_ids = {f["_id"] for f in standin.fees}
    assert {r.system_note.removeprefix("Printing fee ") for r in rows} == fee_ids
    assert all(i.state == "posted" for i in ledger.fee_intents())


def test_the_fee_run_bills_each_negative_balance_and_zeroes_it(
        ledger: SqlLedger, standin: StandIn) -> None:
    scheduler = Scheduler(ledger, all_jobs, clock=Clock(RUN_AT))
    outcomes = {o.key: o for o in scheduler.tick()}
    assert scheduler.tick() == []
    assert_billed_once(ledger, standin)
    report = json.loads(outcomes[KEY].report)
    assert (report["total"], report["unlinked"]) == (12_735, [{"user": "walkin",
                                                                "balance": -250}])
    assert sorted((f["user"], f["amount"], f["balance"]) for f in report["fees"]) == [
        ("ann@x.org", 734, 0), ("bob@x.org", 1, 0), ("cy@x.org", 12_000, 0)]
    stored = ledger.get_run(KEY)
    assert stored is not None and stored.state == "done" and json.loads(stored.report) == report


def test_the_site_switch_turns_the_fee_run_off(ledger: SqlLedger, standin: StandIn) -> None:
    ledger.set_setting(FEES_SETTING, "no")
    before = balances(ledger)
    outcomes = Scheduler(ledger, all_jobs, clock=Clock(RUN_AT)).tick()
    assert standin.fees == [] and balances(ledger) == before
    assert [json.loads(o.report)["off"] for o in outcomes if o.kind == "feerun"] == [True]


STEPS = ["intents_written", "before_fee", "after_fee", "after_post"]
# (step, at which user): the first user, or the second once the first is done.
CRASHES = [("claimed", 1)] + [(step, 1) for step in STEPS] + [
    (step, 2) for step in STEPS if step != "intents_written"]


@pytest.mark.parametrize(("step", "nth", "batch"), [
    (step, nth, batch) for step, nth in CRASHES for batch in (100, 1)
    if (step, nth, batch) != ("after_post", 2, 100)])  # one batch holds all three users
def test_a_crash_at_any_step_neither_loses_nor_repeats_a_fee(
        ledger: SqlLedger, standin: StandIn, step: str, nth: int, batch: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feerun, "BATCH", batch)  # one commit for all, or one per user
    seen: list[str] = []

    def crash(at: str) -> None:
        seen.append(at)
        if seen.count(at) == nth and at == step:
            raise Crash(at)

    def crashing(led: Ledger) -> list[Job]:
        return [FeeRunJob("07:30", crash=crash)]

    clock = Clock(RUN_AT)
    with pytest.raises(Crash):
        Scheduler(ledger, crashing, owner="dies", clock=clock, lease_s=60).tick()
    ledger.close()
    again = SqlLedger(ledger.url)  # a new process, after the lease ran out
    clock.now += dt.timedelta(seconds=61)
    Scheduler(again, all_jobs, owner="next", clock=clock, lease_s=60).tick()
    assert_billed_once(again, standin)


def test_a_membership_system_that_is_down_is_billed_next_day(
        ledger: SqlLedger, standin: StandIn, tmp_path: Path) -> None:
    config.set_officernd(ledger, standin.org, standin.client_id, tmp_path / "ornd.secret",
                         standin.url, standin.url, attempts=2)
    standin.fail("/fees", 503, times=200)
    clock = Clock(RUN_AT)
    scheduler = Scheduler(ledger, all_jobs, clock=clock)
    outcomes = {o.key: o for o in scheduler.tick()}
    report = json.loads(outcomes[KEY].report)
    assert len(report["failed"]) == 3 and "server error (503)" in report["failed"][0]["error"]
    assert balances(ledger)["ann@x.org"] == -734 and standin.fees == []
    standin.faults.clear()
    clock.now += dt.timedelta(days=1)
    scheduler.tick()
    assert_billed_once(ledger, standin)


def test_a_fee_whose_answer_was_lost_is_billed_once(ledger: SqlLedger,
                                                    standin: StandIn) -> None:
    standin.lose_fee_answers = 2
    Scheduler(ledger, all_jobs, clock=Clock(RUN_AT)).tick()
    assert_billed_once(ledger, standin)
