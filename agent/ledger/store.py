"""The local ledger: jobs, their evidence and their money, one SQLite transaction per step.

Each method that changes a job writes the state change and the transaction rows it causes
in the same commit (the transactional outbox). The sync task later publishes `pending`
rows; only central's ack marks them `acked`. A crash at any instant leaves either the step
done with its money, or neither, so a restart resumes and settles each job exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import uuid6

from agent.ledger import payloads
from agent.ledger.copies import CopySessions
from agent.ledger.errors import InvalidTransition, JobInFlight, JobNotFound
from agent.ledger.models import (
    SETTLED,
    UNFINISHED,
    AckStatus,
    Evidence,
    JobRow,
    JobState,
    Kind,
    NewJob,
    Step,
    Txn,
    evidence_from_row,
    job_from_row,
)
from agent.ledger.reasons import EXPIRED, check_reason

_OUTBOX_FOR_ACK: dict[str, str] = {"applied": "acked", "duplicate": "acked", "rejected": "rejected"}
_IN_FLIGHT = ", ".join(f"'{s}'" for s in UNFINISHED)


class Ledger(CopySessions):
    """The agent's durable record: print jobs, their evidence and money, copy sessions
    (`CopySessions`), on the plumbing of `LedgerCore`."""

    # -- jobs -------------------------------------------------------------------------

    def start_job(self, job: NewJob, snapshot: dict[str, Any]) -> str:
        """Record a release about to happen, with the counters read before it."""
        job_key = str(uuid6.uuid7())
        now = self._now()
        with self._write():
            busy = self._conn.execute(
                f"SELECT job_key FROM jobs WHERE printer = ? AND source = ? AND queue_job_id = ?"
                f" AND state IN ({_IN_FLIGHT})",
                (job.printer, job.source, job.queue_job_id),
            ).fetchone()
            if busy is not None:
                raise JobInFlight(
                    f"job {job.queue_job_id} on printer {job.printer} is already being "
                    f"released (ledger job {busy[0]})",
                    busy[0],
                )
            self._insert_job(job_key, job, "snapshotting", None, now)
            self._insert_evidence(job_key, "snapshot", snapshot, now)
        return job_key

    def mark_released(self, job_key: str, evidence: dict[str, Any]) -> Txn:
        """Release-Job went out: charge the estimate. A second call returns the same charge."""
        with self._write():
            job = self._job(job_key)
            existing = self._txn_for(job_key, "charge")
            if existing is not None:
                return existing
            if job.state not in ("snapshotting", "released"):
                raise InvalidTransition(
                    f"job {job_key} is {job.state}; only a job being snapshotted can be released"
                )
            now = self._now()
            self._set_state(job_key, "following", now)
            self._insert_evidence(job_key, "release", evidence, now)
            return self._insert_txn(
                kind="charge", type_="print", user=job.user, amount=-job.estimate,
                session_key=job_key, reason=None, note=payloads.charge_note(job),
                job=payloads.job_detail(job, kind="charge"), now=now,
            )  # fmt: skip

    def match_device_job(self, job_key: str, device_job_id: int, created: str | None,
                         doubt: str | None = None) -> JobRow:
        """Record which device job the release printed as, with the evidence of the match,
        in one commit. The first match stands: a second call returns the row unchanged."""
        with self._write():
            job = self._job(job_key)
            if job.device_job_id is not None:
                return job
            now = self._now()
            self._conn.execute(
                "UPDATE jobs SET device_job_id = ?, device_job_created = ?, match_doubt = ?,"
                " updated_at = ? WHERE job_key = ?",
                (device_job_id, created, doubt, now, job_key),
            )
            self._insert_evidence(job_key, "poll", {"device_job": device_job_id,
                                                    "created": created, "doubt": doubt}, now)
            return self._job(job_key)

    def claimed_device_jobs(self, printer: str, *, but: str, limit: int = 256
                            ) -> set[tuple[int, str | None]]:
        """Device jobs other releases on this printer printed as, newest first, by (id,
        creation time): a later release must never be metered from one of them."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT device_job_id, device_job_created FROM jobs WHERE printer = ?"
                " AND job_key != ? AND device_job_id IS NOT NULL"
                " ORDER BY created_at DESC LIMIT ?", (printer, but, limit)).fetchall()
            return {(int(r[0]), r[1]) for r in rows}

    def settled_device_jobs(self, printer: str, limit: int = 64
                            ) -> list[tuple[int, str | None, str, str]]:
        """(device job id, its creation time, user, name) of the newest settled releases on
        this printer: each ended, with the counters still, before any later release."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT device_job_id, device_job_created, user, name FROM jobs"
                " WHERE printer = ? AND device_job_id IS NOT NULL"
                " AND state IN ('settled', 'review') ORDER BY settled_at DESC LIMIT ?",
                (printer, limit)).fetchall()
            return [(int(r[0]), r[1], str(r[2]), str(r[3])) for r in rows]

    def add_evidence(self, job_key: str, step: Step, data: dict[str, Any]) -> None:
        """Keep an observation (a poll, a counter read) so a review can be reasoned about."""
        with self._write():
            self._job(job_key)
            self._insert_evidence(job_key, step, data, self._now())

    def settle(
        self,
        job_key: str,
        *,
        printed: int,
        actual_cost: int,
        reason: str | None,
        review: bool,
        review_note: str | None,
        evidence: dict[str, Any],
        note: str | None = None,
    ) -> Txn | None:
        """Close a followed job: refund estimate - actual, or charge the extra.

        Returns the refund or extra txn, or None when the estimate was exact. Settling a
        settled job returns the earlier result and writes nothing.
        """
        check_reason(reason)
        if printed < 0 or actual_cost < 0:
            raise ValueError(
                f"printed and actual_cost cannot be negative ({printed}, {actual_cost})"
            )
        with self._write():
            job = self._job(job_key)
            if job.state in SETTLED:
                return self._txn_for(job_key, "refund") or self._txn_for(job_key, "extra")
            if self._txn_for(job_key, "charge") is None:
                raise InvalidTransition(
                    f"job {job_key} is {job.state} and was never charged; "
                    "only a released job can be settled (abandon it instead)"
                )
            now = self._now()
            self._conn.execute(
                "UPDATE jobs SET state = ?, printed = ?, reason = ?, review = ?,"
                " review_note = ?, settled_at = ?, updated_at = ? WHERE job_key = ?",
                ("review" if review else "settled", printed, reason, int(review),
                 review_note, now, now, job_key),
            )  # fmt: skip
            self._insert_evidence(job_key, "final", evidence, now)
            settled = self._job(job_key)
            difference = job.estimate - actual_cost
            if difference == 0:
                return None
            kind: Kind = "refund" if difference > 0 else "extra"
            return self._insert_txn(
                kind=kind, type_="refund" if kind == "refund" else "print", user=job.user,
                amount=difference, session_key=job_key, reason=reason,
                note=note or payloads.settle_note(settled, kind),
                job=payloads.job_detail(settled, kind=kind), now=now,
            )  # fmt: skip

    def abandon(self, job_key: str, reason: str) -> None:
        """The job was never released (release failed, user gave up): no money moves.

        `reason` is a reason code or a short sentence; no txn carries it, only the job row.
        """
        if not reason.strip():
            raise ValueError("abandoning a job needs a reason")
        with self._write():
            job = self._job(job_key)
            if job.state == "abandoned":
                return
            if self._txn_for(job_key, "charge") is not None:
                raise InvalidTransition(
                    f"job {job_key} was already charged; settle it instead of abandoning it"
                )
            now = self._now()
            self._conn.execute(
                "UPDATE jobs SET state = 'abandoned', reason = ?, settled_at = ?,"
                " updated_at = ? WHERE job_key = ?",
                (reason, now, now, job_key),
            )

    def record_expired(self, job: NewJob) -> JobRow:
        """A held job deleted because it waited too long: never released, never charged,
        kept so its owner can be told why it is gone. Recording it twice keeps one row."""
        now = self._now()
        with self._write():
            found = self._jobs_where(
                "printer = ? AND source = ? AND queue_job_id = ? AND user = ? AND name = ?"
                " AND state = 'abandoned' AND reason = ?",
                (job.printer, job.source, job.queue_job_id, job.user, job.name, EXPIRED))
            if found:
                return found[0]
            job_key = str(uuid6.uuid7())
            self._insert_job(job_key, job, "abandoned", EXPIRED, now)
            return self._job(job_key)

    def expired(self, user: str, since: datetime) -> list[JobRow]:
        """The user's held jobs deleted for waiting too long since `since`, newest first."""
        stamp = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return self._jobs("user = ? AND state = 'abandoned' AND reason = ? AND settled_at >= ?"
                          " ORDER BY settled_at DESC", (user, EXPIRED, stamp))

    def unfinished(self) -> list[JobRow]:
        """Jobs a restart must resume, oldest first."""
        return self._jobs(f"state IN ({_IN_FLIGHT}) ORDER BY created_at, job_key", ())

    def job(self, job_key: str) -> JobRow:
        with self._lock:
            return self._job(job_key)

    def jobs(self, user: str | None = None, limit: int = 100) -> list[JobRow]:
        """Newest first."""
        if user is None:
            return self._jobs("1 ORDER BY created_at DESC, job_key DESC LIMIT ?", (limit,))
        return self._jobs("user = ? ORDER BY created_at DESC, job_key DESC LIMIT ?", (user, limit))

    def evidence(self, job_key: str) -> list[Evidence]:
        with self._lock:
            rows = self.db.query("SELECT * FROM evidence WHERE job_key = ? ORDER BY id", (job_key,))
            return [evidence_from_row(row) for row in rows]

    # -- money --------------------------------------------------------------------------

    def txns(self, user: str | None = None, session_key: str | None = None) -> list[Txn]:
        """Transactions in the order they happened (by seq)."""
        clauses, params = [], []
        if user is not None:
            clauses.append("user = ?")
            params.append(user)
        if session_key is not None:
            clauses.append("session_key = ?")
            params.append(session_key)
        where = " AND ".join(clauses) or "1"
        return self._txns(f"{where} ORDER BY seq", tuple(params))

    def user_net(self, user: str) -> int:
        """Sum of the user's amounts, leaving out those central rejected."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM txns WHERE user = ? AND outbox != 'rejected'",
                (user,),
            ).fetchone()
            return int(row[0])

    def user_pending(self, user: str) -> int:
        """Sum of the user's amounts central has not acked yet: spent here, unknown there."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM txns WHERE user = ? AND outbox = 'pending'",
                (user,),
            ).fetchone()
            return int(row[0])

    def txn_user(self, txn_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT user FROM txns WHERE txn_id = ?",
                                     (txn_id,)).fetchone()
            return None if row is None else str(row[0])

    def pending_outbox(self, limit: int = 500, *, after_seq: int = 0) -> list[Txn]:
        """Unacknowledged transactions, oldest first: the sync task's work list. `after_seq`
        skips those it already sent, so a busy outbox reads only what is new."""
        return self._txns("outbox = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
                          (after_seq, limit))

    def resend_since(self, request_id: str, since: datetime) -> int | None:
        """Put every acked txn that occurred at or after `since` back in the outbox, once per
        request; returns how many, or None when this request was handled before. Rejected
        txns stay as they are: central refused them."""
        since_text = since.astimezone(UTC).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")
        with self._write():
            if self._conn.execute("SELECT 1 FROM resend_requests WHERE request_id = ?",
                                  (request_id,)).fetchone():
                return None
            count = self._conn.execute(
                "UPDATE txns SET outbox = 'pending' WHERE outbox = 'acked' AND occurred_at >= ?",
                (since_text,)).rowcount
            self._conn.execute(
                "INSERT INTO resend_requests (request_id, since, txns, handled_at)"
                " VALUES (?, ?, ?, ?)", (request_id, since_text, count, self._now()))
        return count

    def mark_attempted(self, txn_ids: list[str]) -> None:
        """Count a publish attempt (for diagnostics of a stuck outbox)."""
        with self._write():
            self._conn.executemany(
                "UPDATE txns SET attempts = attempts + 1 WHERE txn_id = ?",
                [(txn_id,) for txn_id in txn_ids],
            )

    def mark_acked(self, txn_ids_with_status: list[tuple[str, AckStatus, int | None]]) -> int:
        """Apply central's acks in one transaction; returns how many pending rows changed.

        The first ack of a txn wins: later duplicates of the ack are ignored.
        """
        for txn_id, status, _ in txn_ids_with_status:
            if status not in _OUTBOX_FOR_ACK:
                raise ValueError(f"unknown ack status {status!r} for txn {txn_id}")
        now = self._now()
        with self._write():
            cursor = self._conn.executemany(  # rowcount: the rows changed, summed
                "UPDATE txns SET outbox = ?, ack_status = ?, ack_balance = ?, acked_at = ?"
                " WHERE txn_id = ? AND outbox = 'pending'",
                [(_OUTBOX_FOR_ACK[status], status, balance, now, txn_id)
                 for txn_id, status, balance in txn_ids_with_status],
            )
        return cursor.rowcount

    def add_adjustment(
        self, user: str, amount: int, note: str, *, reason: str | None = None
    ) -> Txn:
        """A manual correction (positive credits the user), with no job behind it."""
        check_reason(reason)
        if amount == 0:
            raise ValueError("an adjustment of 0 moves no money")
        with self._write():
            return self._insert_txn(
                kind="adjustment", type_="adjustment", user=user, amount=amount,
                session_key=None,
                reason=reason, note=note, job={"kind": "adjustment"}, now=self._now(),
            )  # fmt: skip

    # -- internals ----------------------------------------------------------------------

    def _job(self, job_key: str) -> JobRow:
        rows = list(self.db.query("SELECT * FROM jobs WHERE job_key = ?", (job_key,)))
        if not rows:
            raise JobNotFound(f"no job {job_key!r} in the ledger")
        return job_from_row(rows[0])

    def _jobs(self, where: str, params: tuple[Any, ...]) -> list[JobRow]:
        with self._lock:
            return self._jobs_where(where, params)

    def _jobs_where(self, where: str, params: tuple[Any, ...]) -> list[JobRow]:
        return [job_from_row(r) for r in self.db.query(f"SELECT * FROM jobs WHERE {where}", params)]

    def _insert_job(self, job_key: str, job: NewJob, state: JobState, reason: str | None,
                    now: str) -> None:
        """A print session and its job row; an abandoned one is settled as it is written."""
        self._insert_session(job_key, "print", "ipp-job", job.printer, job.user, now)
        self._conn.execute(
            "INSERT INTO jobs (job_key, printer, source, queue_job_id, user, name,"
            " impressions, color, duplex, media, estimate, state, reason, review,"
            " created_at, updated_at, settled_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (job_key, job.printer, job.source, job.queue_job_id, job.user, job.name,
             job.impressions, int(job.color), int(job.duplex), job.media, job.estimate,
             state, reason, now, now, now if state == "abandoned" else None),
        )  # fmt: skip

    def _set_state(self, job_key: str, state: str, now: str) -> None:
        self._conn.execute(
            "UPDATE jobs SET state = ?, updated_at = ? WHERE job_key = ?", (state, now, job_key)
        )

    def _insert_evidence(self, job_key: str, step: Step, data: dict[str, Any], now: str) -> None:
        self._conn.execute(
            "INSERT INTO evidence (job_key, step, data, at) VALUES (?, ?, ?, ?)",
            (job_key, step, msgspec.json.encode(data).decode(), now),
        )
