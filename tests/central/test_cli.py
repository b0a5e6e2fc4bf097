"""`pagetally central` as an admin types it: where the options may go."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
