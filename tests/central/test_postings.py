"""Postings at central carry their origin and never pose as a device; money knows decimals."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from central import admin
from central.money import MoneyError, format_money, parse_money
from central.storage.ledger import SqlLedger
from central.storage.migrations_sqlite import MIGRATIONS
from central.storage.records import Posting
from tests.central.conftest import Stores
from tests.central.mqtt_client import make_txn


@pytest.fixture
def ledger(stores: Stores) -> SqlLedger:
    led = SqlLedger(stores.url("p"))
    admin.add_user(led, "ann", "Ann", 1000, restricted=True, credit_limit=0, groups=["g"])
    return led


def test_each_posting_says_where_it_came_from(ledger: SqlLedger) -> None:
    charge = make_txn("ann", -300)
    assert ledger.apply_txn(charge, "dev-a").status == "applied"
    admin.post(ledger, "ann", "adjustment", 50, note="Balance adjustment", comment="gift")
    admin.refund_txn(ledger, str(charge.txn_id), "jammed")
    admin.import_users(ledger, io.StringIO("username,balance\nbea,2.00\n"))
    rows = {(r.username, r.origin, r.type, r.amount, r.site, r.device)
            for r in ledger.all_transactions()}
    assert rows == {
        ("ann", "admin", "adjustment", 1000, "", ""),  # the initial balance of `user add`
        ("ann", "device", "print", -300, "s1", "dev-a"),
        ("ann", "admin", "adjustment", 50, "", ""),
        ("ann", "refund", "refund", 300, "", ""),
        ("bea", "import", "adjustment", 200, "", ""),
    }
    admin_rows = [r for r in ledger.all_transactions() if r.origin != "device"]
    assert all(r.transacted_by.startswith("admin:") for r in admin_rows)


def test_a_posting_applies_once_and_reset_and_cap_are_worked_out_in_the_commit(
        ledger: SqlLedger) -> None:
    def p(pid: str, amount: int, **kw: object) -> Posting:
        return Posting(pid, "ann", amount, "schedule", "schedule", "Weekly", **kw)  # type: ignore[arg-type]

    first = ledger.post([p("a", 500), p("a", 500)])
    assert [(r.status, r.balance) for r in first] == [("applied", 1500), ("duplicate", 1500)]
    capped = ledger.post([p("b", 500, cap=1800), p("c", 500, cap=1800)])
    assert [(r.status, r.balance) for r in capped] == [("applied", 1800), ("unchanged", 1800)]
    reset = ledger.post([p("d", 200, mode="reset"), p("e", 200, mode="reset")])
    assert [(r.status, r.balance) for r in reset] == [("applied", 200), ("unchanged", 200)]
    amounts = [r.amount for r in ledger.transactions("ann") if r.origin == "schedule"]
    assert amounts == [-1600, 300, 500]  # newest first; no row for "unchanged"
    assert ledger.post([p("f", 1, )])[0].balance == 201
    nobody = Posting("g", "zed", 1, "admin", "admin:x", "n")
    assert ledger.post([nobody])[0].reason == "there is no user 'zed'"


def test_schema_1_admin_rows_become_admin_postings(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    raw = sqlite3.connect(db, isolation_level=None)
    for statement in filter(str.strip, MIGRATIONS[0].split(";")):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO meta VALUES ('currency', 'EUR')")
    raw.execute("INSERT INTO accounts VALUES ('old', 'Old', 100, 1, 0, '2025-01-01')")
    raw.execute("INSERT INTO account_groups VALUES ('old', 'staff')")
    for txn_id, type_, site, device in (("t1", "adjustment", "central", "admin"),
                                        ("t2", "refund", "central", "admin"),
                                        ("t3", "print", "s1", "dev-a")):
        raw.execute("INSERT INTO transactions VALUES (?, 'old', ?, 0, 100, 'EUR', 'x', '', '',"
                    " '2025-01-01', '2025-01-01', ?, ?, NULL, NULL, NULL)",
                    (txn_id, type_, site, device))
    raw.close()
    ledger = SqlLedger(db)
    assert [(r.txn_id, r.origin, r.site, r.device) for r in ledger.all_transactions()] == [
        ("t1", "admin", "", ""), ("t2", "refund", "", ""), ("t3", "device", "s1", "dev-a")]
    assert [g.name for g in ledger.groups()] == ["staff"]


@pytest.mark.parametrize(("text", "currency", "minor", "shown"), [
    ("500", "JPY", 500, "500"), ("1.234", "KWD", 1234, "1.234"), ("1.20", "EUR", 120, "1.20")])
def test_money_uses_the_ledger_currency_decimals(text: str, currency: str, minor: int,
                                                 shown: str) -> None:
    assert parse_money(text, currency) == minor
    assert format_money(minor, currency) == shown


def test_money_refuses_more_decimals_than_the_currency_has() -> None:
    with pytest.raises(MoneyError, match="JPY amounts have at most 0 decimals"):
        parse_money("1.5", "JPY")
    with pytest.raises(MoneyError, match="too large"):
        parse_money("10000000000001", "JPY")


def test_a_yen_ledger_shows_yen(stores: Stores) -> None:
    ledger = SqlLedger(stores.url("y"), currency="JPY")
    admin.add_user(ledger, "ken", "Ken", 500, restricted=False, credit_limit=0, groups=[])
    out = io.StringIO()
    admin.show(ledger, "ken", out)
    assert "balance 500 JPY" in out.getvalue()
    with pytest.raises(admin.AdminError, match="JPY amounts have at most 0 decimals"):
        admin.import_users(ledger, io.StringIO("username,balance\nyo,1.50\n"))
