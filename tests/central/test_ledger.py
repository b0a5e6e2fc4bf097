"""The ledger on both stores (SQLite and PostgreSQL), codes, money and the admin commands (in
process and via the CLI)."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central import admin
from central.codes import CodeBook, normalise_card
from central.money import MoneyError, format_money, parse_money
from central.storage.ledger import SqlLedger
from central.storage.migrations_postgres import MIGRATIONS as PG_MIGRATIONS
from central.storage.migrations_sqlite import MIGRATIONS
from central.storage.sqldb import IntegrityError, SqlDb
from tests.central.conftest import ALICE_CODE, START_BALANCE, LedgerAt, Stores, seed
from tests.central.mqtt_client import make_txn
from tests.helpers import BIN, ROOT
from tests.postgres import PostgresServer


@pytest.fixture
def ledger(ledger_db: LedgerAt) -> SqlLedger:
    return SqlLedger(ledger_db.url)


def test_schema_is_migrated_and_durable(ledger: SqlLedger) -> None:
    db = ledger._db
    if ledger.dialect == "sqlite":
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    else:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [
            (len(PG_MIGRATIONS),)]
    SqlLedger(ledger.url).close()  # reopening migrates nothing twice
    assert ledger.get_account("alice") is not None


def _columns(db: SqlDb) -> dict[str, list[str]]:
    if db.dialect == "sqlite":
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}
    found: dict[str, list[str]] = {}
    for table, column in db.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name != 'schema_version'"
            " ORDER BY table_name, ordinal_position"):
        found.setdefault(table, []).append(column)
    return found


def test_both_stores_have_the_same_tables_and_columns(postgres: PostgresServer,
                                                      tmp_path: Path) -> None:
    """The two migration lists must not drift: what one store has, the other has too (in
    PostgreSQL plus `rowid`, which SQLite has implicitly)."""
    sqlite_side = SqlLedger(tmp_path / "schema.db")
    pg_side = SqlLedger(postgres.new_database("schema"))
    try:
        pg_columns = {t: [c for c in cols if c != "rowid"]
                      for t, cols in _columns(pg_side._db).items()}
        assert pg_columns == _columns(sqlite_side._db)
    finally:
        sqlite_side.close()
        pg_side.close()


def test_apply_is_idempotent_and_balance_is_the_sum_of_rows(ledger: SqlLedger) -> None:
    txns = [make_txn("alice", -10 * (i + 1)) for i in range(50)]
    results = ledger.apply_batch([(t, "dev-a") for t in txns + txns[:5]])
    assert [r.status for r in results] == ["applied"] * 50 + ["duplicate"] * 5
    expected = START_BALANCE - sum(10 * (i + 1) for i in range(50))
    assert results[-1].balance == expected
    again = ledger.apply_txn(txns[0], "dev-a")
    assert (again.status, again.balance) == ("duplicate", expected)
    rows = ledger.transactions("alice")
    assert sum(r.amount for r in rows) == expected == ledger.get_account("alice").balance  # type: ignore[union-attr]
    assert rows[0].balance_after == expected


def test_rejections_change_nothing(ledger: SqlLedger) -> None:
    nobody = ledger.apply_txn(make_txn("mallory", -5), "dev-a")
    assert (nobody.status, nobody.reason) == ("rejected", "there is no user 'mallory'")
    dollars = make_txn("alice", -5)
    dollars = type(dollars)(**{**{f: getattr(dollars, f) for f in dollars.__struct_fields__},
                               "currency": "USD"})
    wrong = ledger.apply_txn(dollars, "dev-a")
    assert wrong.status == "rejected" and "USD" in (wrong.reason or "")
    assert ledger.get_account("alice").balance == START_BALANCE  # type: ignore[union-attr]
    assert ledger.get_txn(str(dollars.txn_id)) is None


def test_codes_are_never_stored_in_plain_text(ledger_db: LedgerAt, ledger: SqlLedger) -> None:
    assert stat.S_IMODE(ledger_db.secret.stat().st_mode) == 0o600
    codes = CodeBook.from_file(ledger_db.secret)
    found = ledger.code_hash_for_tag(codes.lookup_tag(ALICE_CODE))
    assert found is not None and found[0] == "alice" and codes.verify(found[1], ALICE_CODE)
    assert not codes.verify(found[1], "246811")
    every_value = [repr(row) for table in _columns(ledger._db)
                   for row in ledger._db.execute(f"SELECT * FROM {table}")]
    assert len(every_value) > 5 and not any(ALICE_CODE in v for v in every_value)
    ledger.close()
    for path in ledger_db.secret.parent.glob("ledger.db*"):  # SQLite: its WAL too
        assert ALICE_CODE.encode() not in path.read_bytes(), path
    other = CodeBook(os.urandom(32))  # a stolen DB without the secret file is useless
    assert other.lookup_tag(ALICE_CODE) != codes.lookup_tag(ALICE_CODE)
    assert not other.verify(found[1], ALICE_CODE)


def test_a_code_cannot_belong_to_two_users(ledger_db: LedgerAt, ledger: SqlLedger) -> None:
    codes = CodeBook.from_file(ledger_db.secret)
    with pytest.raises(admin.AdminError, match="already in use"):
        admin.set_code(ledger, codes, "bob", ALICE_CODE)
    generated = admin.set_code(ledger, codes, "bob", None)
    assert re.fullmatch(r"\d{6}", generated) and generated != ALICE_CODE


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_money_round_trips_exactly(cents: int) -> None:
    assert parse_money(format_money(cents)) == cents


@pytest.mark.parametrize(("text", "cents"), [("1.20", 120), ("-1.2", -120), ("5", 500),
                                             ("0.05", 5), ("+3.00", 300), ("0.1", 10)])
def test_money_parses_decimal_text(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["1.205", "1,20", "1e3", "", "abc", "1.", ".5", "nan",
                                  "10000000000.01"])
def test_money_refuses_anything_else(text: str) -> None:
    with pytest.raises(MoneyError,
                       match=r"expected an amount|too large|at most 2 decimals|use a dot"):
        parse_money(text)


def test_cards_are_normalised() -> None:
    assert normalise_card(" 00 12-34 ") == "1234"
    assert normalise_card("0a:1b") == "0A1B"
    with pytest.raises(ValueError, match="not a card number"):
        normalise_card("12/34")


def test_refunds_by_txn_and_by_job(ledger: SqlLedger) -> None:
    from contract import JobInfo

    charge = make_txn("alice", -300, job=JobInfo("job-7", pages=3))
    extra = make_txn("alice", -100, job=JobInfo("job-7", pages=4))
    ledger.apply_batch([(charge, "dev-a"), (extra, "dev-a")])
    refund = admin.refund_txn(ledger, str(charge.txn_id), "jammed")
    assert refund.balance == START_BALANCE - 100
    with pytest.raises(admin.AdminError, match="already refunded in full"):
        admin.refund_txn(ledger, str(charge.txn_id), "again")
    rest = admin.refund_job(ledger, "job-7", "whole job")
    assert rest.balance == START_BALANCE
    with pytest.raises(admin.AdminError, match="nothing left to refund"):
        admin.refund_job(ledger, "job-7", "again")
    record = ledger.get_txn(refund.txn_id)
    assert record is not None and record.refund_of == str(charge.txn_id)
    assert (record.type, record.comment, record.job_id) == ("refund", "jammed", "job-7")
    with pytest.raises(admin.AdminError, match="no transaction"):
        admin.refund_txn(ledger, str(uuid.uuid4()), "x")


def test_import_checks_every_line_before_changing_anything(ledger: SqlLedger) -> None:
    bad = "username,display_name,balance,groups\ncarol,Carol,1.00,a\ndave,Dave,1.234,b\n"
    with pytest.raises(admin.AdminError,
                       match=r"line 3: EUR amounts have at most 2 decimals, got '1\.234'"):
        admin.import_users(ledger, io.StringIO(bad))
    assert ledger.get_account("carol") is None
    good = ("username,display_name,balance,groups,restricted,credit_limit,card\n"
            "carol,Carol C,2.50,staff;lab,no,,0099\nalice,,,,,1.00,\n")
    assert admin.import_users(ledger, io.StringIO(good)) == (1, 1)
    carol = ledger.get_account("carol")
    assert carol is not None and (carol.balance, carol.restricted) == (250, False)
    assert carol.groups == ("lab", "staff") and ledger.account_for_card("99") == carol
    alice = ledger.get_account("alice")
    assert alice is not None
    assert (alice.display_name, alice.credit_limit, alice.groups) == ("Alice Liddell", 100,
                                                                      ("staff",))


def _cli(db: LedgerAt, *args: str) -> tuple[int, str]:
    import subprocess

    proc = subprocess.run([str(BIN / "pagetally"), "central", *args, "--db", db.url,
                           "--secret-file", str(db.secret)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout + proc.stderr


def test_admin_cli(stores: Stores, tmp_path: Path) -> None:
    db = stores.new("cli")
    assert _cli(db, "user", "add", "erin", "--name", "Erin", "--balance", "5.00",
                "--credit-limit", "2")[0] == 0
    rc, out = _cli(db, "code", "set", "erin")
    code = re.search(r"access code for erin: (\d{6})\n", out)
    assert rc == 0 and code, out
    assert _cli(db, "card", "add", "erin", "00 77")[1].startswith("card 77 now belongs to erin")
    rc, out = _cli(db, "balance", "adjust", "erin", "-1.20", "--comment", "printer jam fee")
    assert (rc, out) == (0, "erin: new balance 3.80\n")
    rc, out = _cli(db, "balance", "adjust", "erin", "1.205", "--comment", "x")
    assert rc == 1 and "EUR amounts have at most 2 decimals, got '1.205'" in out, out
    rc, out = _cli(db, "balance", "adjust", "erin", "1,20", "--comment", "x")
    assert rc == 2 and "use a dot for decimals" in out, out
    rc, out = _cli(db, "show", "erin")
    assert "balance 3.80 EUR" in out and "printer jam fee" in out and "Initial balance" in out
    rc, out = _cli(db, "refund", "--job", "nope", "--comment", "x")
    assert rc == 1 and "no transaction mentions job nope" in out
    export = tmp_path / "out.csv"
    assert _cli(db, "export", "--csv", str(export))[0] == 0
    rows = list(csv.DictReader(export.open()))
    assert [(r["type"], r["amount"], r["balance"]) for r in rows] == [
        ("adjustment", "5.00", "5.00"), ("adjustment", "-1.20", "3.80")]
    assert code
    if stores.kind == "sqlite":
        assert code.group(1).encode() not in Path(db.url).read_bytes()


def test_the_cli_wants_a_secret_file_beside_a_postgres_ledger(stores: Stores) -> None:
    import subprocess

    url = stores.new("nosecret").url
    proc = subprocess.run([str(BIN / "pagetally"), "central", "code", "set", "x", "--db", url],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if stores.kind == "sqlite":  # beside the file by default: the user is simply unknown
        assert (proc.returncode, proc.stderr) == (1, "pagetally central: there is no user 'x'\n")
    else:
        assert proc.returncode == 1 and "give --secret-file" in proc.stderr, proc.stderr


def test_seeded_db_is_reusable(stores: Stores) -> None:
    db = stores.new("x")
    seed(db)
    with pytest.raises(IntegrityError):
        SqlLedger(db.url)._db.execute("INSERT INTO transactions (txn_id) VALUES ('x')")
