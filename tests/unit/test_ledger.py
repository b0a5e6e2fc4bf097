"""The local ledger: one charge per release, one settlement per job, an ordered outbox."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.ledger import (
    InvalidTransition,
    JobInFlight,
    JobNotFound,
    Ledger,
    NewJob,
    reason_text,
)
from agent.ledger.db import pragma
from agent.ledger.payloads import copy_note

CONTRACT_KEYS = {"txn_id", "type", "user", "amount", "currency", "occurred_at", "job", "note"}


def new_job(queue_job_id: int = 7, *, user: str = "alice", estimate: int = 100) -> NewJob:
    return NewJob(
        printer="mfd-1", source="device", queue_job_id=queue_job_id, user=user,
        name="report.pdf", impressions=10, color=False, duplex=True, media="a4",
        estimate=estimate,
    )  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.db", device="pi-1", site="lib") as opened:
        yield opened


def released(ledger: Ledger, queue_job_id: int = 7, **kw: object) -> str:
    key = ledger.start_job(new_job(queue_job_id, **kw), {"life": 1000})  # type: ignore[arg-type]
    ledger.mark_released(key, {"release": "ok"})
    return key


def settle(ledger: Ledger, key: str, printed: int, cost: int, reason: str = "completed"):
    return ledger.settle(
        key, printed=printed, actual_cost=cost, reason=reason, review=False,
        review_note=None, evidence={"delta": printed},
    )  # fmt: skip


def test_start_job_records_snapshot(ledger: Ledger) -> None:
    key = ledger.start_job(new_job(), {"life": 1000, "ipp": 400})
    job = ledger.job(key)
    assert (job.state, job.user, job.estimate, job.duplex) == ("snapshotting", "alice", 100, True)
    assert [(e.step, e.data) for e in ledger.evidence(key)] == [
        ("snapshot", {"life": 1000, "ipp": 400})
    ]
    assert ledger.txns() == []
    assert uuid.UUID(key).version == 7


def test_release_charges_estimate_exactly_once(ledger: Ledger) -> None:
    key = ledger.start_job(new_job(), {})
    first = ledger.mark_released(key, {"n": 1})
    second = ledger.mark_released(key, {"n": 2})
    assert first == second
    assert (first.kind, first.type, first.amount, first.outbox) == (
        "charge",
        "print",
        -100,
        "pending",
    )
    assert ledger.job(key).state == "following"
    assert len(ledger.txns()) == 1
    assert [e.step for e in ledger.evidence(key)] == ["snapshot", "release"]
    assert ledger.user_net("alice") == -100


def test_settle_refunds_difference_with_reason(ledger: Ledger) -> None:
    key = released(ledger)
    refund = settle(ledger, key, printed=3, cost=30, reason="jam")
    assert refund is not None
    assert (refund.kind, refund.type, refund.amount, refund.reason) == (
        "refund",
        "refund",
        70,
        "jam",
    )
    assert refund.note == "Refund: Paper jam at page 3. Printed 3 of 10 pages."
    assert refund.job["printed"] == 3 and refund.job["reason"] == "jam"
    job = ledger.job(key)
    assert (job.state, job.printed, job.reason, job.review) == ("settled", 3, "jam", False)
    assert job.settled_at is not None
    assert ledger.user_net("alice") == -30


def test_settle_twice_returns_first_result_and_writes_nothing(ledger: Ledger) -> None:
    key = released(ledger)
    first = settle(ledger, key, printed=3, cost=30, reason="jam")
    again = settle(ledger, key, printed=9, cost=90, reason="completed")
    assert again == first
    assert [t.kind for t in ledger.txns()] == ["charge", "refund"]
    assert ledger.job(key).printed == 3
    assert [e.step for e in ledger.evidence(key)].count("final") == 1


def test_settle_more_than_estimate_posts_extra_charge(ledger: Ledger) -> None:
    key = released(ledger)
    extra = settle(ledger, key, printed=12, cost=120)
    assert extra is not None
    assert (extra.kind, extra.type, extra.amount) == ("extra", "print", -20)
    assert settle(ledger, key, printed=12, cost=120) == extra
    assert ledger.user_net("alice") == -120


def test_settle_exact_estimate_moves_no_more_money(ledger: Ledger) -> None:
    key = released(ledger)
    assert settle(ledger, key, printed=10, cost=100) is None
    assert settle(ledger, key, printed=10, cost=100) is None
    assert [t.kind for t in ledger.txns()] == ["charge"]


def test_settle_for_review_keeps_flag_and_note(ledger: Ledger) -> None:
    key = released(ledger)
    result = ledger.settle(
        key, printed=10, actual_cost=100, reason="completed", review=True,
        review_note="counter delta 12, IPP says 10", evidence={"delta": 12, "ipp": 10},
    )  # fmt: skip
    assert result is None
    job = ledger.job(key)
    assert (job.state, job.review, job.review_note) == (
        "review",
        True,
        "counter delta 12, IPP says 10",
    )
    assert ledger.unfinished() == []


def test_abandon_moves_no_money_and_blocks_later_steps(ledger: Ledger) -> None:
    key = ledger.start_job(new_job(), {})
    ledger.abandon(key, "job was canceled before it was released")
    ledger.abandon(key, "never-started")
    job = ledger.job(key)
    assert (job.state, job.reason) == ("abandoned", "job was canceled before it was released")
    assert job.settled_at is not None
    assert ledger.txns() == []
    with pytest.raises(InvalidTransition, match="only a job being snapshotted"):
        ledger.mark_released(key, {})
    with pytest.raises(InvalidTransition, match="never charged"):
        settle(ledger, key, printed=0, cost=0)
    assert ledger.txns() == []


def test_cannot_abandon_a_charged_job_or_settle_an_unreleased_one(ledger: Ledger) -> None:
    charged = released(ledger, 1)
    with pytest.raises(InvalidTransition, match="already charged"):
        ledger.abandon(charged, "never-started")
    assert ledger.job(charged).state == "following"
    fresh = ledger.start_job(new_job(2), {})
    with pytest.raises(InvalidTransition, match="abandon it instead"):
        settle(ledger, fresh, printed=0, cost=0)
    assert ledger.job(fresh).state == "snapshotting"


def test_unknown_job_and_unknown_reason_are_refused(ledger: Ledger) -> None:
    with pytest.raises(JobNotFound, match="no job 'nope'"):
        ledger.job("nope")
    with pytest.raises(JobNotFound):
        ledger.add_evidence("nope", "poll", {})
    key = released(ledger)
    with pytest.raises(ValueError, match="unknown reason code 'jammed'"):
        settle(ledger, key, printed=1, cost=10, reason="jammed")
    assert ledger.job(key).state == "following"


def test_same_queue_job_cannot_be_in_flight_twice(ledger: Ledger) -> None:
    key = ledger.start_job(new_job(7), {})
    with pytest.raises(JobInFlight) as caught:
        ledger.start_job(new_job(7), {})
    assert caught.value.job_key == key
    assert "job 7 on printer mfd-1 is already being released" in str(caught.value)
    ledger.mark_released(key, {})
    settle(ledger, key, printed=10, cost=100)
    again = ledger.start_job(new_job(7), {})  # queue ids may be reused once settled
    assert again != key


def test_unique_constraint_refuses_second_charge_row(ledger: Ledger) -> None:
    key = released(ledger)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        ledger.db.execute(
            "INSERT INTO txns (txn_id, seq, session_key, kind, type, user, amount, currency,"
            " occurred_at) VALUES ('x', 99, ?, 'charge', 'print', 'alice', -5, 'EUR', 'now')",
            (key,),
        )
    assert len(ledger.txns(session_key=key)) == 1


def test_outbox_is_ordered_and_acks_apply_in_one_batch(ledger: Ledger) -> None:
    keys = [released(ledger, n, user=f"u{n % 2}") for n in range(5)]
    settle(ledger, keys[0], printed=0, cost=0, reason="never-started")
    adj = ledger.add_adjustment("u1", 500, "top-up at desk")
    pending = ledger.pending_outbox()
    seqs = [t.seq for t in pending]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == 7
    assert [t.kind for t in pending][-2:] == ["refund", "adjustment"]
    assert [t.seq for t in ledger.pending_outbox(limit=3)] == seqs[:3]
    assert [t.seq for t in ledger.pending_outbox(limit=2, after_seq=seqs[2])] == seqs[3:5]

    changed = ledger.mark_acked(
        [(pending[0].txn_id, "applied", 900), (pending[1].txn_id, "duplicate", 800),
         (adj.txn_id, "rejected", None), (pending[0].txn_id, "applied", 1)]
    )  # fmt: skip
    assert changed == 3  # the repeated ack changed nothing
    assert [t.seq for t in ledger.pending_outbox()] == seqs[2:6]
    first = ledger.txns(session_key=keys[0])[0]
    assert (first.outbox, first.ack_status, first.ack_balance) == ("acked", "applied", 900)
    assert first.acked_at is not None
    assert ledger.user_net("u1") == -200  # the rejected adjustment does not count
    # A repeated ack does not overwrite the first one.
    assert ledger.mark_acked([(pending[0].txn_id, "duplicate", 1)]) == 0
    assert ledger.txns(session_key=keys[0])[0].ack_balance == 900


def test_unknown_ack_status_changes_nothing(ledger: Ledger) -> None:
    key = released(ledger)
    charge = ledger.txns(session_key=key)[0]
    with pytest.raises(ValueError, match="unknown ack status 'ok'"):
        ledger.mark_acked([(charge.txn_id, "applied", 1), (charge.txn_id, "ok", 1)])  # type: ignore[list-item]
    assert ledger.pending_outbox() == [charge]


def test_mark_attempted_counts(ledger: Ledger) -> None:
    key = released(ledger)
    charge = ledger.txns(session_key=key)[0]
    ledger.mark_attempted([charge.txn_id])
    ledger.mark_attempted([charge.txn_id])
    assert ledger.pending_outbox()[0].attempts == 2


def test_contract_payload_matches_mqtt_v1(ledger: Ledger, tmp_path: Path) -> None:
    key = released(ledger)
    charge = ledger.pending_outbox()[0]
    payload = charge.to_contract()
    assert set(payload) == CONTRACT_KEYS
    assert uuid.UUID(payload["txn_id"]).version == 7
    assert payload["type"] == "print" and payload["amount"] == -100
    assert payload["currency"] == "EUR" and payload["user"] == "alice"
    assert payload["occurred_at"].endswith("Z")
    when = datetime.fromisoformat(payload["occurred_at"])
    assert when.tzinfo is not None and when.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert payload["job"]["job_key"] == key and payload["job"]["impressions"] == 10
    assert json.loads(json.dumps(payload)) == payload
    ledger.close()
    with Ledger(tmp_path / "ledger.db", device="pi-1", site="lib") as reopened:
        assert reopened.pending_outbox()[0].to_contract() == payload


def test_clock_is_recorded_in_utc(tmp_path: Path) -> None:
    fixed = datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    with Ledger(tmp_path / "l.db", device="d", site="s", clock=lambda: fixed) as ledger:
        key = released(ledger)
        assert ledger.txns()[0].occurred_at == "2024-03-01T12:00:00.123Z"
        assert ledger.job(key).created_at == "2024-03-01T12:00:00.123Z"


def test_unfinished_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path, device="d", site="s") as ledger:
        snap = ledger.start_job(new_job(1), {"life": 1})
        follow = released(ledger, 2)
        done = released(ledger, 3)
        settle(ledger, done, printed=10, cost=100)
        gone = ledger.start_job(new_job(4), {})
        ledger.abandon(gone, "never-started")
    with Ledger(path, device="d", site="s") as ledger:
        assert [(j.job_key, j.state) for j in ledger.unfinished()] == [
            (snap, "snapshotting"), (follow, "following")
        ]  # fmt: skip
        assert [e.data for e in ledger.evidence(snap)] == [{"life": 1}]


def test_jobs_and_txns_filter_by_user(ledger: Ledger) -> None:
    a = released(ledger, 1, user="alice")
    b = released(ledger, 2, user="bob")
    c = released(ledger, 3, user="alice")
    assert [j.job_key for j in ledger.jobs(user="alice")] == [c, a]
    assert [j.job_key for j in ledger.jobs(limit=1)] == [c]
    assert [t.session_key for t in ledger.txns(user="bob")] == [b]
    assert [t.session_key for t in ledger.txns(user="alice", session_key=c)] == [c]


def copied(ledger: Ledger, user: str, pages: int, cost: int) -> str:
    """A copy session opened and settled with one charge; its session key."""
    key = ledger.open_copy(user=user, printer="mfd-1", board_boot=1, start={})
    ledger.settle_copy(key, pages=pages, cost=cost, review=False, result={},
                       note=copy_note(pages))
    return key


def test_copy_charge_once_per_session_and_adjustments(ledger: Ledger) -> None:
    key = copied(ledger, "bob", 4, 40)
    again = ledger.settle_copy(key, pages=5, cost=50, review=False, result={}, note="x")
    [first] = ledger.txns(session_key=key)
    assert first == again
    assert (first.type, first.kind, first.amount, first.note) == (
        "copy",
        "copy",
        -40,
        "Copy: 4 pages",
    )
    assert first.job == {"kind": "copy", "session": key, "printer": "mfd-1", "impressions": 4,
                         "review": False}
    credit = ledger.add_adjustment("bob", 100, "goodwill", reason="jam")
    assert (credit.type, credit.amount, credit.session_key) == ("adjustment", 100, None)
    ledger.add_adjustment("bob", -10, "correction")
    assert ledger.user_net("bob") == 50
    with pytest.raises(ValueError, match="moves no money"):
        ledger.add_adjustment("bob", 0, "nothing")
    with pytest.raises(ValueError, match="unknown reason code 'oops'"):
        ledger.add_adjustment("bob", 5, "typo", reason="oops")
    assert ledger.user_net("bob") == 50


def test_wal_and_synchronous_full_on_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    for _ in range(2):
        with Ledger(path, device="d", site="s") as ledger:
            assert pragma(ledger.db, "journal_mode") == "wal"
            assert pragma(ledger.db, "synchronous") == "2"  # FULL
            assert pragma(ledger.db, "foreign_keys") == "1"
            released(ledger, len(ledger.jobs()))
    outside = sqlite3.connect(path)
    try:
        assert outside.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persisted
        assert outside.execute("SELECT COUNT(*) FROM txns").fetchone()[0] == 2
    finally:
        outside.close()


def test_bad_currency_refused_before_any_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="three capitals"):
        Ledger(tmp_path / "l.db", device="d", site="s", currency="euro")
    assert not (tmp_path / "l.db").exists()


def test_concurrent_threads_keep_seq_unique(ledger: Ledger) -> None:
    def work(base: int) -> None:
        for n in range(20):
            key = released(ledger, base + n, user=f"t{base}")
            settle(ledger, key, printed=n % 11, cost=(n % 11) * 10)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(work, 1000 * i) for i in range(4)]:
            future.result(timeout=30)  # re-raises any error from the worker thread
    seqs = [t.seq for t in ledger.txns()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == 4 * (20 + 19)  # job 10 of each thread printed exactly the estimate
    for i in range(4):
        assert ledger.user_net(f"t{1000 * i}") == -sum((n % 11) * 10 for n in range(20))


def test_reason_text_sentences() -> None:
    assert reason_text("jam", at_page=3) == "Paper jam at page 3"
    assert reason_text("paper-out") == "Printer ran out of paper"
    assert reason_text("canceled-by-user", at_page=1) == "Canceled by you at page 1"
    assert reason_text("completed") == "Printed"
    # abandon() may store a sentence instead of a code: it is shown as written.
    assert reason_text("Release failed: printer offline") == "Release failed: printer offline"


def test_every_commit_that_writes_money_wakes_the_outbox_once(ledger: Ledger) -> None:
    """The outbox is woken by the ledger, not by the name of a panel notification."""
    woken: list[int] = []
    ledger.on_money = lambda: woken.append(len(ledger.pending_outbox()))
    key = ledger.start_job(new_job(), {})
    ledger.add_evidence(key, "poll", {"n": 1})
    assert woken == []  # no money yet
    ledger.mark_released(key, {})
    ledger.mark_released(key, {})  # the same charge again: nothing new written
    assert woken == [1]  # once, and after the commit: the txn is already readable
    settle(ledger, key, printed=4, cost=40)
    ledger.add_adjustment("alice", 50, "goodwill")
    copied(ledger, "alice", 2, 20)
    assert woken == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        ledger.add_adjustment("alice", 0, "nothing")
    ledger.mark_acked([(t.txn_id, "applied", 0) for t in ledger.pending_outbox()])
    assert woken == [1, 2, 3, 4]  # acks and refusals write no new money


def test_print_jobs_and_copy_charges_are_sessions_their_txns_refer_to(ledger: Ledger) -> None:
    key = released(ledger)
    copy = copied(ledger, "bob", 3, 30)
    ledger.add_adjustment("bob", 100, "goodwill")
    sessions = ledger.db.execute("SELECT session_key, kind, evidence, printer, user"
                                 " FROM sessions ORDER BY kind").fetchall()
    assert sessions == [(copy, "copy", "board", "mfd-1", "bob"),
                        (key, "print", "ipp-job", "mfd-1", "alice")]
    assert [(t.kind, t.session_key) for t in ledger.txns()] == [
        ("charge", key), ("copy", copy), ("adjustment", None)]
