"""Scheduled runs (claimed once per key, across instances) and the fee run's intent records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from central.storage.base import ApplyResult, ClaimResult, StorageError
from central.storage.records import FeeIntent, Posting, Run
from central.storage.sql_base import SqlBase, iso, now, parse_iso

Reporter = Callable[[list[ApplyResult]], str]
_RUN_COLUMNS = "key, kind, due_at, state, owner, started_at, finished_at, report"
_FEE_COLUMNS = "reference, run_key, username, member_id, amount, state, fee_id"


class RunsMixin(SqlBase):
    def claim_run(self, key: str, kind: str, due_at: dt.datetime, owner: str,
                  at: dt.datetime, lease_s: float) -> ClaimResult:
        """Take the run `key` for `owner`. The primary key is the once-only guarantee: of two
        instances, one inserts and the other sees it. A run whose owner stopped renewing its
        lease (crashed) is taken over, so it is finished, not lost."""
        until = iso(at + dt.timedelta(seconds=lease_s))
        with self._tx() as db:
            row = db.execute("SELECT state, owner, lease_until FROM runs WHERE key = ?",
                             (key,)).fetchone()
            if row is None:
                db.execute("INSERT INTO runs (key, kind, due_at, state, owner, lease_until,"
                           " started_at) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                           (key, kind, iso(due_at), owner, until, iso(at)))
                return "claimed"
            state, holder, lease_until = row
            if state == "done":
                return "done"
            if holder != owner and lease_until > iso(at):
                return "busy"
            db.execute("UPDATE runs SET owner = ?, lease_until = ? WHERE key = ?",
                       (owner, until, key))
            return "claimed"

    def renew_run(self, key: str, owner: str, at: dt.datetime, lease_s: float) -> None:
        with self._tx() as db:
            self._check_owner(key, owner)
            db.execute("UPDATE runs SET lease_until = ? WHERE key = ?",
                       (iso(at + dt.timedelta(seconds=lease_s)), key))

    def _check_owner(self, key: str, owner: str) -> None:
        row = self._db.execute("SELECT state, owner FROM runs WHERE key = ?", (key,)).fetchone()
        if row is None or row[0] != "running" or row[1] != owner:
            raise StorageError(f"run {key} is no longer held by {owner} (another instance"
                               " took it over); this instance stops")

    def finish_run(self, key: str, owner: str, report: str | Reporter,
                   postings: Sequence[Posting] = ()) -> list[ApplyResult]:
        """Apply the run's postings and mark it done in ONE commit, so a run posts once.

        `report` may be a function of the postings' results, to name them in the report."""
        with self._tx() as db:
            self._check_owner(key, owner)
            stamp = iso(now())
            results = [self._post_one(p, stamp) for p in postings]  # type: ignore[attr-defined]
            text = report if isinstance(report, str) else report(results)
            db.execute("UPDATE runs SET state = 'done', finished_at = ?, report = ?"
                       " WHERE key = ?", (stamp, text, key))
            return results

    def get_run(self, key: str) -> Run | None:
        found = self._runs("WHERE key = ?", (key,))
        return found[0] if found else None

    def runs(self, kind: str | None = None, limit: int = 50) -> list[Run]:
        if kind is None:
            return self._runs("ORDER BY due_at DESC, key LIMIT ?", (limit,))
        return self._runs("WHERE kind = ? ORDER BY due_at DESC LIMIT ?", (kind, limit))

    def _runs(self, where: str, params: tuple[object, ...]) -> list[Run]:
        rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs {where}", params)
        return [Run(r[0], r[1], parse_iso(r[2]), r[3], r[4], parse_iso(r[5]),
                    parse_iso(r[6]) if r[6] else None, r[7]) for r in rows]

    # fee intents ------------------------------------------------------------------------

    def add_fee_intents(self, intents: Sequence[FeeIntent]) -> None:
        """Record what the fee run is about to ask for, BEFORE it asks (one commit)."""
        stamp = iso(now())
        with self._tx() as db:
            db.executemany(f"INSERT INTO fee_intents ({_FEE_COLUMNS}, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, 'intent', NULL, ?) ON CONFLICT DO NOTHING",
                           [(i.reference, i.run_key, i.username, i.member_id, i.amount, stamp)
                            for i in intents])

    def post_fees(self, booked: Sequence[tuple[str, str, Posting]]) -> list[ApplyResult]:
        """(reference, fee id, zeroing posting) of booked fees: the postings and the
        intents' end in ONE commit."""
        stamp = iso(now())
        with self._tx() as db:
            results = [self._post_one(posting, stamp)  # type: ignore[attr-defined]
                       for _, _, posting in booked]
            db.executemany("UPDATE fee_intents SET state = 'posted', fee_id = ?,"
                           " updated_at = ? WHERE reference = ?",
                           [(fee_id, stamp, ref) for ref, fee_id, _ in booked])
            return results

    def fee_intents(self, run_key: str | None = None, *, open_only: bool = False
                    ) -> list[FeeIntent]:
        where, params = [], []
        if run_key is not None:
            where.append("run_key = ?")
            params.append(run_key)
        if open_only:
            where.append("state != 'posted'")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._db.execute(f"SELECT {_FEE_COLUMNS} FROM fee_intents {clause}"
                                " ORDER BY rowid", params)
        return [FeeIntent(*r) for r in rows]
