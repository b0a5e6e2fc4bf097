"""The admin CLI for groups, quotas, settings, sources, syncs, fee runs and reports, as an
admin types it, against the OfficeRnD stand-in over HTTP."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.storage.ledger import SqlLedger
from tests.central.conftest import LedgerAt, Stores
from tests.central.officernd_standin import StandIn
from tests.helpers import BIN, ROOT


@pytest.fixture
def standin() -> Iterator[StandIn]:
    s = StandIn().start()
    s.add_company("c1", "Acme")
    s.add_member("m1", "Ann", "ann@x.org", company="c1")
    s.add_member("m2", "Bo", "bo@x.org")
    yield s
    s.stop()


def central(db: LedgerAt, *args: str) -> tuple[int, str]:
    proc = subprocess.run([str(BIN / "pagetally"), "central", *args, "--db", db.url,
                           "--secret-file", str(db.secret)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout + proc.stderr


def test_groups_quotas_and_settings(stores: Stores) -> None:
    db = stores.new("c")
    assert central(db, "settings", "set", "timezone", "Mars/Base") == (
        1, "pagetally central: 'Mars/Base' is not a time zone: use a name like"
           " Europe/Berlin or UTC\n")
    assert central(db, "settings", "set", "timezone", "Europe/Berlin")[0] == 0
    assert central(db, "group", "add", "Acme", "--credit-limit", "2.50") == (
        0, "added group Acme\n")
    rc, out = central(db, "quota", "add", "Daily", "--group", "Acme", "--period", "daily",
                      "--amount", "1.00", "--at", "07:00", "--cap", "5", "--comment",
                      "Print allowance")
    assert (rc, out) == (0, "added quota Daily: add 1.00 EUR up to 5.00 EUR for group Acme,"
                            " every day at 07:00 (Print allowance)\n")
    rc, out = central(db, "quota", "add", "M", "--group", "Acme", "--period", "monthly",
                      "--amount", "3", "--reset", "--monthday", "30")
    assert (rc, out) == (1, "pagetally central: the day of the month is 1 to 28, or 31 for"
                            " the last day\n")
    rc, out = central(db, "quota", "add", "M", "--group", "Nope", "--period", "weekly",
                      "--amount", "3", "--weekday", "fri")
    assert (rc, out) == (1, "pagetally central: there is no group 'Nope'\n")
    assert central(db, "user", "add", "ann", "--group", "Acme")[0] == 0
    rc, out = central(db, "group", "list")
    assert out == ("Acme: 1 user(s), new users restricted, credit limit 2.50 EUR\n"), out
    rc, out = central(db, "settings", "show")
    assert "timezone = Europe/Berlin" in out and "fees.managed_here = (default)" in out


def test_source_sync_and_fee_run(stores: Stores, tmp_path: Path, standin: StandIn) -> None:
    db = stores.new("c")
    secret = tmp_path / "ornd.secret"
    secret.write_text(standin.client_secret)
    assert central(db, "user", "add", "bo@x.org", "--balance", "-4.20")[0] == 0
    rc, out = central(db, "source", "officernd", "--org", "acme", "--client-id",
                      standin.client_id, "--client-secret-file", str(secret), "--api-url",
                      standin.url, "--identity-url", standin.url)
    assert rc == 0 and "OfficeRnD organisation acme" in out and "statuses in ['active']" in out
    ledger = SqlLedger(db.url)
    assert standin.client_secret not in repr(ledger.settings())
    rc, out = central(db, "sync")
    assert rc == 1 and "bo@x.org: -4.20 EUR" in out and "--confirm-negatives" in out, out
    rc, out = central(db, "sync", "--dry-run")
    assert (rc, out) == (0, "dry run: first sync from officernd:acme would create 1, update 1,"
                            " remove 0, move 0 to the unlinked group; 0 unchanged\n")
    rc, out = central(db, "sync", "--confirm-negatives")
    assert rc == 0 and out.startswith("first sync from officernd:acme did create 1"), out
    rc, out = central(db, "fees", "run")
    assert rc == 0 and "1 fee(s), 4.20 EUR" in out and "bo@x.org: 4.20 EUR, fee fee" in out
    assert [f["price"] for f in standin.fees] == ["4.2"]
    assert central(db, "fees", "report")[1] == out
    assert {a.username: a.balance for a in ledger.accounts()} == {"ann@x.org": 0,
                                                                   "bo@x.org": 0}
    rc, out = central(db, "runs")
    assert rc == 0 and out.count("feerun:manual:") == 1 and out.count("sync:manual:") == 1
    rc, out = central(db, "schedule", "run-due")
    assert rc == 0 and "feerun:" in out and "sync:" in out, out  # today's, caught up once
    assert central(db, "schedule", "run-due") == (0, "nothing is due\n")
    assert len(standin.fees) == 1


def test_pin_set(stores: Stores) -> None:
    db = stores.new("c")
    assert central(db, "user", "add", "ann")[0] == 0
    assert central(db, "pin", "set", "ann", "--pin", "12") == (
        1, "pagetally central: a PIN is 4 to 8 digits\n")
    rc, out = central(db, "pin", "set", "ann")
    assert rc == 0 and out.startswith("PIN for ann: ") and len(out.split()[3]) == 4, out
    ledger = SqlLedger(db.url)
    stored = ledger.pin_hash("ann")
    assert stored is not None and stored.startswith("$argon2id$")
    assert central(db, "pin", "set", "nobody", "--pin", "1234") == (
        1, "pagetally central: there is no user 'nobody'\n")
