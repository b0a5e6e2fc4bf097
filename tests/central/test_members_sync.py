"""The sync rules end to end: OfficeRnD stand-in over HTTP → plan → one commit in the ledger."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from central import admin
from central.jobs import all_jobs
from central.members import config
from central.members.rules import INDIVIDUAL_GROUP, UNLINKED_GROUP, MemberFilter
from central.members.sync import FILTER_SETTING, NeedsConfirmation, sync
from central.scheduler import Scheduler
from central.storage.ledger import SqlLedger
from tests.central.clock import Clock
from tests.central.conftest import Stores
from tests.central.mqtt_client import make_txn
from tests.central.officernd_standin import StandIn


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    s = StandIn().start()
    s.add_company("c1", "Acme")
    s.add_company("c2", "Globex")
    s.add_member("m1", "Ann A", "Ann@x.org", company="c1", tags=["print"])
    s.add_member("m2", "Bob B", "bob@x.org", company="c2", location="L2")
    s.add_member("m3", "Cy C", "cy@x.org")  # an individual member
    s.add_member("m4", "Di D", "di@x.org", company="c1", status="former")
    s.add_member("m5", "Neg N", "neg@x.org", company="c2")
    yield s
    s.stop()


@pytest.fixture
def ledger(stores: Stores, tmp_path: Path, standin: StandIn) -> SqlLedger:
    led = SqlLedger(stores.url("m"))
    secret = tmp_path / "ornd.secret"
    secret.write_text(standin.client_secret)
    config.set_officernd(led, standin.org, standin.client_id, secret, standin.url,
                         standin.url)
    return led


def source(ledger: SqlLedger):  # type: ignore[no-untyped-def]
    found = config.open_source(ledger)
    assert found is not None
    return found


def users(ledger: SqlLedger) -> dict[str, tuple[int, tuple[str, ...]]]:
    return {a.username: (a.balance, a.groups) for a in ledger.accounts()}


def test_first_sync_into_an_empty_ledger_creates_what_matches(ledger: SqlLedger) -> None:
    ledger.add_group("Acme", restricted=False, credit_limit=0)
    result = sync(ledger, source(ledger))
    assert users(ledger) == {"ann@x.org": (0, ("Acme",)), "bob@x.org": (0, ("Globex",)),
                             "cy@x.org": (0, (INDIVIDUAL_GROUP,)),
                             "neg@x.org": (0, ("Globex",))}  # di is a former member
    ann = ledger.get_account("ann@x.org")
    assert ann is not None and (ann.display_name, ann.restricted) == ("Ann A", False)
    assert ledger.member_links("officernd:acme")["cy@x.org"] == "m3"
    assert json.loads(result.report)["create"] == 4


def test_first_sync_into_a_ledger_with_users(ledger: SqlLedger) -> None:
    for name, balance in (("ann@x.org", 500), ("di@x.org", 200), ("zed", 100),
                          ("neg@x.org", -300)):
        admin.add_user(ledger, name, "Old name", balance, restricted=True, credit_limit=0,
                       groups=["old"])
    admin.add_card(ledger, "ann@x.org", "77")
    before = users(ledger)
    with pytest.raises(NeedsConfirmation, match=r"neg@x\.org: -3\.00 EUR[\s\S]*"
                                                 "--confirm-negatives"):
        sync(ledger, source(ledger))
    assert users(ledger) == before  # nothing happened

    dry = sync(ledger, source(ledger), dry_run=True)
    assert users(ledger) == before and not dry.applied
    assert (json.loads(dry.report)["remove"], dry.plan.unlinked) == (1, ["zed"])

    sync(ledger, source(ledger), confirm_negatives=True)
    assert users(ledger) == {
        "ann@x.org": (500, ("Acme",)),  # re-created: username and balance kept
        "bob@x.org": (0, ("Globex",)), "cy@x.org": (0, (INDIVIDUAL_GROUP,)),
        "neg@x.org": (-300, ("Globex",)),
        "zed": (100, (UNLINKED_GROUP,)),  # no member matches
    }
    assert ledger.get_account("di@x.org") is None  # excluded (former) and matched: removed
    assert ledger.account_for_card("77") is not None  # the card stays with ann
    late = ledger.apply_txn(make_txn("di@x.org", -50), "dev-a")  # a terminal's txn still lands
    assert (late.status, late.balance) == ("applied", 150)


def test_a_regular_sync_follows_the_source(ledger: SqlLedger, standin: StandIn) -> None:
    sync(ledger, source(ledger))
    admin.add_user(ledger, "walkin", "Walk In", 0, restricted=True, credit_limit=0,
                   groups=["guests"])
    standin.members[0]["company"] = "c2"  # ann moves to Globex
    standin.members[1]["name"] = "Robert B"
    del standin.members[2]  # cy leaves
    standin.members.append({"_id": "m6", "name": "Eve", "email": "eve@x.org",
                            "company": None, "status": "active"})
    result = sync(ledger, source(ledger))
    summary = json.loads(result.report)
    assert (summary["first"], summary["create"], summary["update"], summary["remove"],
            summary["unchanged"]) == (False, 1, 2, 1, 1)
    assert users(ledger) == {"ann@x.org": (0, ("Globex",)), "bob@x.org": (0, ("Globex",)),
                             "eve@x.org": (0, (INDIVIDUAL_GROUP,)),
                             "neg@x.org": (0, ("Globex",)), "walkin": (0, ("guests",))}
    bob = ledger.get_account("bob@x.org")
    assert bob is not None and bob.display_name == "Robert B"


def test_a_removed_member_who_returns_keeps_the_balance(ledger: SqlLedger,
                                                        standin: StandIn) -> None:
    sync(ledger, source(ledger))
    admin.post(ledger, "cy@x.org", "adjustment", 250, note="x", comment="")
    standin.members[2]["status"] = "former"
    sync(ledger, source(ledger))
    assert ledger.get_account("cy@x.org") is None
    standin.members[2]["status"] = "active"
    sync(ledger, source(ledger))
    assert users(ledger)["cy@x.org"] == (250, (INDIVIDUAL_GROUP,))


@pytest.mark.parametrize(("wanted", "expected"), [
    (MemberFilter(companies=("Globex",)), {"bob@x.org", "neg@x.org"}),
    (MemberFilter(companies=("c1",), statuses=None), {"ann@x.org", "di@x.org"}),
    (MemberFilter(tags=("print",)), {"ann@x.org"}),
    (MemberFilter(locations=("L2",)), {"bob@x.org"}),
])
def test_member_management_chooses_who_is_synced(ledger: SqlLedger, wanted: MemberFilter,
                                                 expected: set[str]) -> None:
    ledger.set_setting(FILTER_SETTING, wanted.to_json())
    sync(ledger, source(ledger))
    assert set(users(ledger)) == expected


def test_a_file_source_syncs_the_same_way(stores: Stores, tmp_path: Path) -> None:
    ledger = SqlLedger(stores.url("f"))
    members = tmp_path / "members.csv"
    members.write_text("id,name,email,company_id,company\n1,Ann,ann@x.org,c1,Acme\n"
                       "2,Bo,bo@x.org,,\n")
    config.set_file(ledger, members, tmp_path / "fees.jsonl")
    found = config.open_source(ledger)
    assert found is not None
    sync(ledger, found)
    assert users(ledger) == {"ann@x.org": (0, ("Acme",)), "bo@x.org": (0, (INDIVIDUAL_GROUP,))}


def test_regular_syncs_run_daily_on_the_scheduler_after_the_first(
        ledger: SqlLedger, standin: StandIn) -> None:
    ledger.set_setting("timezone", "Europe/Berlin")
    clock = Clock(dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC))  # 07:00 in Berlin
    scheduler = Scheduler(ledger, all_jobs, clock=clock)
    assert scheduler.tick() == []  # the first sync is an admin's, never the scheduler's
    sync(ledger, source(ledger))
    standin.add_member("m7", "Fay", "fay@x.org")
    # yesterday's fee run catches up once; today's sync is due at 07:00
    assert [o.key for o in scheduler.tick()] == ["feerun:2026-03-01", "sync:2026-03-02"]
    assert scheduler.tick() == []
    assert "fay@x.org" in users(ledger)
    run = ledger.get_run("sync:2026-03-02")
    assert run is not None and json.loads(run.report)["create"] == 1
