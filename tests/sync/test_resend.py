"""A restore of central's ledger to an earlier point, over a real Mosquitto: central lacks
txns it had acked; `pagetally central resend --since` asks every terminal again, and the
terminal's outbox sends them, so central ends with every txn once."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
from pathlib import Path

from agent.ledger import Ledger
from tests.central.conftest import CentralRunner
from tests.helpers import BIN
from tests.mosquitto import Mosquitto
from tests.sync.conftest import DEVICE, SITE, START
from tests.sync.outbox_harness import central_held, outbox, pending, until


def _backup(db: Path, to: Path) -> None:
    """SQLite's online backup, as docs/scaling.md tells operators to take one."""
    with contextlib.closing(sqlite3.connect(db)) as live, \
            contextlib.closing(sqlite3.connect(to)) as copy:
        live.backup(copy)


def _restore(backup: Path, db: Path) -> None:
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    _backup(backup, db)


def _resend(broker: Mosquitto, central: CentralRunner, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "pagetally"), "central", "resend", *args, "--mqtt-port",
         str(broker.port), "--password-file", str(central.db.secret.parent / "central.pw")],
        capture_output=True, text=True, timeout=30, check=True)
    return done.stdout


async def test_after_a_restore_the_terminals_send_what_central_lost(
        tmp_path: Path, broker: Mosquitto, central: CentralRunner) -> None:
    central.start()
    db = tmp_path / "agent.db"
    ledger = Ledger(db, device=DEVICE, site=SITE)
    central_db = Path(central.db.url)
    try:
        started = dt.datetime.now(dt.UTC)
        before = [ledger.add_adjustment("alice", -1, "before").txn_id for _ in range(4)]
        async with outbox(ledger, broker):
            await until(lambda: pending(db) == 0, 30, "the first txns acked")
            _backup(central_db, tmp_path / "backup.db")
            after = [ledger.add_adjustment("alice", -10, "after").txn_id for _ in range(6)]
            await until(lambda: pending(db) == 0, 30, "the later txns acked")
            assert central.balance("alice") == START["alice"] - 64
            assert central.child is not None
            central.child.stop()
            _restore(tmp_path / "backup.db", central_db)
            central.start()
            assert sorted(central_held(central)) == sorted(before)  # the six are lost
            said = _resend(broker, central, "--since", started.isoformat())
            assert "asked every terminal to send again its txns since" in said
            await until(lambda: len(central_held(central)) == 10, 30,
                        "central got back what it lost")
            await until(lambda: pending(db) == 0, 30, "every resent txn acked")
        assert sorted(central_held(central)) == sorted(before + after)
        assert central.balance("alice") == START["alice"] - 64  # each once
        statuses = {t.txn_id: t.ack_status for t in ledger.txns()}
        assert [statuses[i] for i in before] == ["duplicate"] * 4  # it still had those
        assert [statuses[i] for i in after] == ["applied"] * 6
        assert "cleared" in _resend(broker, central, "--clear")
    finally:
        ledger.close()


def test_a_request_is_acted_on_once_and_spares_rejected_txns(tmp_path: Path) -> None:
    # a set clock: the ledger keeps times to the millisecond, so "now" could fall in the
    # same millisecond as the txn before it
    now = [dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)]
    ledger = Ledger(tmp_path / "agent.db", device=DEVICE, site=SITE, clock=lambda: now[0])
    try:
        old = ledger.add_adjustment("alice", -1, "old")
        ledger.mark_acked([(old.txn_id, "applied", 0)])
        cut = now[0] = now[0] + dt.timedelta(minutes=1)
        new = [ledger.add_adjustment("alice", -1, "new") for _ in range(3)]
        ledger.mark_acked([(new[0].txn_id, "applied", 0), (new[1].txn_id, "rejected", None)])
        assert ledger.resend_since("req-1", cut) == 1  # new[0]; new[2] was still pending
        assert [t.txn_id for t in ledger.pending_outbox()] == [new[0].txn_id, new[2].txn_id]
        ledger.mark_acked([(new[0].txn_id, "duplicate", 0)])
        assert ledger.resend_since("req-1", cut) is None  # the broker repeats it: no effect
        assert [t.txn_id for t in ledger.pending_outbox()] == [new[2].txn_id]
        assert ledger.resend_since("req-2", cut - dt.timedelta(hours=1)) == 2  # old, new[0]
    finally:
        ledger.close()
