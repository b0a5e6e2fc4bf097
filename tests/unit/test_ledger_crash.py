"""Crash safety: a step interrupted at any instant leaves the job and its money consistent.

The hard cases run the ledger in a child process that dies for real (os._exit in the middle
of an open transaction, or SIGKILL at a random moment); the parent reopens the file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent.ledger import Ledger, NewJob
from tests.helpers import ROOT

JOB = NewJob(
    printer="mfd-1", source="device", queue_job_id=1, user="alice", name="a.pdf",
    impressions=10, color=False, duplex=False, media=None, estimate=100,
)  # fmt: skip


def run_child(code: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_exception_mid_step_rolls_back_state_change(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db", device="d", site="s") as ledger:
        key = ledger.start_job(JOB, {})
        # The state UPDATE runs first, then the evidence cannot be encoded: all must vanish.
        with pytest.raises(TypeError):
            ledger.mark_released(key, {"bad": object()})
        assert ledger.job(key).state == "snapshotting"
        assert ledger.txns() == []
        assert [e.step for e in ledger.evidence(key)] == ["snapshot"]
        assert ledger.mark_released(key, {"ok": 1}).amount == -100


def test_database_failure_mid_settle_rolls_back(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db", device="d", site="s") as ledger:
        key = ledger.start_job(JOB, {})
        ledger.mark_released(key, {})
        ledger.db.execute(
            "CREATE TRIGGER no_refunds BEFORE INSERT ON txns WHEN NEW.kind = 'refund'"
            " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="disk on fire"):
            ledger.settle(key, printed=2, actual_cost=20, reason="jam", review=False,
                          review_note=None, evidence={"delta": 2})  # fmt: skip
        job = ledger.job(key)
        assert (job.state, job.printed, job.settled_at) == ("following", None, None)
        assert [e.step for e in ledger.evidence(key)] == ["snapshot", "release"]
        ledger.db.execute("DROP TRIGGER no_refunds")
        refund = ledger.settle(key, printed=2, actual_cost=20, reason="jam", review=False,
                               review_note=None, evidence={})  # fmt: skip
        assert refund is not None and refund.amount == 80


@pytest.mark.parametrize("step", ["release", "settle"])
def test_process_death_inside_transaction_leaves_nothing_half_written(
    tmp_path: Path, step: str
) -> None:
    path = tmp_path / "l.db"
    with Ledger(path, device="d", site="s") as ledger:
        key = ledger.start_job(JOB, {"life": 5})
        if step == "settle":
            ledger.mark_released(key, {})
    # The child dies the moment it sends the txn INSERT: the job UPDATE and the evidence
    # INSERT of the same transaction have already run but were never committed.
    child = run_child(f"""
        import os
        from agent.ledger import Ledger
        ledger = Ledger({str(path)!r}, device="d", site="s")
        def die(sql):
            if sql.startswith("INSERT INTO txns"):
                os._exit(17)
        ledger.db.conn.set_trace_callback(die)
        if {step!r} == "release":
            ledger.mark_released({key!r}, {{"n": 1}})
        else:
            ledger.settle({key!r}, printed=3, actual_cost=30, reason="jam", review=False,
                          review_note=None, evidence={{"n": 1}})
        print("finished without dying")
    """)
    assert child.returncode == 17, child.stdout + child.stderr
    with Ledger(path, device="d", site="s") as ledger:
        job = ledger.job(key)
        kinds = [t.kind for t in ledger.txns()]
        steps = [e.step for e in ledger.evidence(key)]
        if step == "release":
            assert (job.state, kinds, steps) == ("snapshotting", [], ["snapshot"])
        else:
            assert (job.state, kinds, steps) == ("following", ["charge"], ["snapshot", "release"])
        assert [j.job_key for j in ledger.unfinished()] == [key]


def test_sigkill_at_random_moments_keeps_every_job_consistent(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    loop = f"""
        import sys
        from agent.ledger import Ledger, NewJob, JobInFlight
        ledger = Ledger({str(path)!r}, device="d", site="s")
        for job in ledger.unfinished():   # resume what the last kill interrupted
            if job.state == "snapshotting":
                ledger.mark_released(job.job_key, {{"resumed": True}})
            ledger.settle(job.job_key, printed=job.queue_job_id % 11,
                          actual_cost=(job.queue_job_id % 11) * 10, reason="completed",
                          review=False, review_note=None, evidence={{}})
        n = len(ledger.jobs(limit=1_000_000))
        while True:
            n += 1
            key = ledger.start_job(NewJob(printer="p", source="cups", queue_job_id=n,
                user="u", name="x", impressions=10, color=False, duplex=False,
                media=None, estimate=100), {{}})
            ledger.mark_released(key, {{}})
            ledger.settle(key, printed=n % 11, actual_cost=(n % 11) * 10,
                          reason="completed", review=False, review_note=None, evidence={{}})
            print(n, flush=True)
    """
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(loop)], cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        wanted = 20 + 7 * round_
        deadline = time.monotonic() + 20
        seen = 0
        while seen < wanted and time.monotonic() < deadline:
            if proc.stdout.readline():
                seen += 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert seen == wanted, proc.stderr.read() if proc.stderr else ""
    # Resume once more without killing, then check every job's money.
    with Ledger(path, device="d", site="s") as ledger:
        for job in ledger.unfinished():
            if job.state == "snapshotting":
                ledger.mark_released(job.job_key, {})
            ledger.settle(job.job_key, printed=job.queue_job_id % 11,
                          actual_cost=(job.queue_job_id % 11) * 10, reason="completed",
                          review=False, review_note=None, evidence={})  # fmt: skip
        jobs = ledger.jobs(limit=1_000_000)
        assert len(jobs) >= 60
        expected_net = 0
        for job in jobs:
            assert job.state == "settled"
            kinds = sorted(t.kind for t in ledger.txns(session_key=job.job_key))
            printed = job.queue_job_id % 11
            assert kinds == (["charge"] if printed == 10 else ["charge", "refund"])
            assert sum(t.amount for t in ledger.txns(session_key=job.job_key)) == -printed * 10
            expected_net -= printed * 10
        assert ledger.user_net("u") == expected_net
        seqs = [t.seq for t in ledger.txns()]
        assert seqs == sorted(set(seqs))
