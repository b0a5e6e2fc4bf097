"""`pagetally central` as an admin types it: where the options may go, and which ones exist."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, ROOT


def central(*args: str) -> tuple[int, str]:
    proc = subprocess.run([str(BIN / "pagetally"), "central", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout + proc.stderr


def test_shared_options_work_before_and_after_the_command(tmp_path: Path) -> None:
    db, secret = str(tmp_path / "c.db"), str(tmp_path / "elsewhere.secret")
    assert central("--db", db, "user", "add", "ann", "--balance", "2.50") == (
        0, "added ann, balance 2.50\n")
    before = central("--db", db, "show", "ann")
    after = central("show", "ann", "--db", db)
    assert before[0] == 0 and "balance 2.50 EUR" in before[1], before
    assert after == before
    rc, out = central("--secret-file", secret, "code", "set", "ann", "--code", "482916",
                      "--db", db)
    assert (rc, out.splitlines()[0]) == (0, "access code for ann: 482916"), out
    assert Path(secret).exists() and not Path(db + ".secret").exists()
    rc, out = central("show", "ann")
    assert rc == 2 and "the following arguments are required: --db" in out, out


@pytest.mark.parametrize("command", [["show"], ["export"], ["code", "set"], ["card", "add"],
                                     ["balance", "adjust"], ["refund"]])
def test_currency_is_not_offered_where_it_means_nothing(command: list[str]) -> None:
    rc, out = central(*command, "--help")
    assert rc == 0 and "--db" in out, out
    assert "--currency" not in out, out


def test_currency_is_offered_where_a_command_may_create_the_ledger(tmp_path: Path) -> None:
    for command in (["serve"], ["user", "add"], ["user", "import"]):
        rc, out = central(*command, "--help")
        assert rc == 0 and "--currency" in out, (command, out)
    db = str(tmp_path / "chf.db")
    assert central("user", "add", "ben", "--currency", "CHF", "--db", db)[0] == 0
    rc, out = central("show", "ben", "--db", db)
    assert rc == 0 and "CHF" in out, out
    rc, out = central("show", "ben", "--db", db, "--currency", "USD")
    assert rc == 2 and "unrecognized arguments: --currency USD" in out, out
