"""Read-only queries of the ledger for the web portal and the admin console.

A read connection of its own per thread (WAL lets it read while central's worker writes),
opened read-only so a page can never change money. Every list is bounded: a user's
statement by 90 days and 100 rows, the admin log by pages keyed on rowid.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from central.storage.base import TxnRecord
from central.storage.sql_base import TXN_COLUMNS, iso, txn_record
from central.storage.sqldb import SqlDb, connect

TXN_TYPES = ("print", "copy", "refund", "adjustment")
PAGE = 100


@dataclass(frozen=True, slots=True)
class AccountView:
    username: str
    display_name: str
    balance: int
    restricted: bool
    credit_limit: int
    groups: tuple[str, ...]
    cards: tuple[str, ...]
    has_code: bool


@dataclass(frozen=True, slots=True)
class LogFilter:
    """The admin transaction log's filters; empty means any."""

    user: str = ""
    device: str = ""
    type: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive

    def where(self) -> tuple[str, list[object]]:
        parts: list[str] = []
        params: list[object] = []
        for column, value in (("username", self.user), ("device", self.device),
                              ("type", self.type)):
            if value:
                parts.append(f"{column} = ?")
                params.append(value)
        if self.since:
            parts.append("occurred_at >= ?")
            params.append(iso(dt.datetime.combine(self.since, dt.time(), dt.UTC)))
        if self.until:
            parts.append("occurred_at < ?")
            params.append(iso(dt.datetime.combine(self.until + dt.timedelta(days=1),
                                                  dt.time(), dt.UTC)))
        return " AND ".join(parts) or "TRUE", params


class PortalQueries:
    def __init__(self, ledger_url: Path | str) -> None:
        self.url = str(ledger_url)
        self._local = threading.local()

    @property
    def _db(self) -> SqlDb:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.url, read_only=True)
        return db

    def currency(self) -> str:
        return self._db.execute("SELECT value FROM meta WHERE key = 'currency'").fetchone()[0]

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?",
                               (f"setting.{key}",)).fetchone()
        return row[0] if row else None

    def account(self, username: str) -> AccountView | None:
        db = self._db
        row = db.execute("SELECT username, display_name, balance, restricted, credit_limit"
                         " FROM accounts WHERE username = ? AND removed_at IS NULL",
                         (username,)).fetchone()
        if row is None:
            return None
        groups = tuple(g for (g,) in db.execute(
            "SELECT group_name FROM account_groups WHERE username = ? ORDER BY 1", (username,)))
        cards = tuple(c for (c,) in db.execute(
            "SELECT card_number FROM cards WHERE username = ? ORDER BY 1", (username,)))
        has_code = db.execute("SELECT 1 FROM access_codes WHERE username = ?",
                              (username,)).fetchone() is not None
        return AccountView(row[0], row[1], row[2], bool(row[3]), row[4], groups, cards,
                           has_code)

    def accounts(self, search: str = "", offset: int = 0, limit: int = 50
                 ) -> tuple[list[tuple[str, str, int, bool, int]], int]:
        """(username, name, balance, restricted, credit limit) of one page, and the total."""
        where = "removed_at IS NULL"
        params: list[object] = []
        if search:
            like = "LIKE" if self._db.dialect == "sqlite" else "ILIKE"  # SQLite's ignores case
            where += (f" AND (username {like} ? ESCAPE '\\'"
                      f" OR display_name {like} ? ESCAPE '\\')")
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace(
                "_", "\\_") + "%"
            params += [pattern, pattern]
        total = self._db.execute(f"SELECT count(*) FROM accounts WHERE {where}",
                                 params).fetchone()[0]
        rows = self._db.execute(
            f"SELECT username, display_name, balance, restricted, credit_limit FROM accounts"
            f" WHERE {where} ORDER BY username LIMIT ? OFFSET ?", [*params, limit, offset])
        return [(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows], total

    def statement(self, username: str, now: dt.datetime, days: int = 90,
                  limit: int = 100) -> list[TxnRecord]:
        """A user's own rows of the last `days`, newest first (by when they happened)."""
        since = iso(now - dt.timedelta(days=days))
        rows = self._db.execute(
            f"SELECT {TXN_COLUMNS} FROM transactions WHERE username = ? AND occurred_at >= ?"
            " ORDER BY occurred_at DESC, rowid DESC LIMIT ?", (username, since, limit))
        return [txn_record(r) for r in rows]

    def log(self, where: LogFilter, before: int | None = None, limit: int = PAGE
            ) -> list[tuple[int, TxnRecord]]:
        """One page of the whole log, newest first, with each row's cursor (its rowid)."""
        clause, params = where.where()
        if before is not None:
            clause += " AND rowid < ?"
            params.append(before)
        rows = self._db.execute(f"SELECT rowid, {TXN_COLUMNS} FROM transactions WHERE {clause}"
                                " ORDER BY rowid DESC LIMIT ?", [*params, limit])
        return [(r[0], txn_record(r[1:])) for r in rows]

    def log_all(self, where: LogFilter) -> Iterator[TxnRecord]:
        """Every row the filter matches, oldest first, for the CSV export (streamed)."""
        clause, params = where.where()
        cursor = self._db.execute(f"SELECT {TXN_COLUMNS} FROM transactions WHERE {clause}"
                                  " ORDER BY rowid", params)
        for row in cursor:
            yield txn_record(row)

    def review_queue(self, limit: int = 200) -> list[tuple[TxnRecord, int]]:
        """Charges the terminals flagged for review, newest first, each with what has been
        given back for its job since (refunds and adjustments made at central)."""
        flagged = ("json_extract(job_json, '$.review') = 1" if self._db.dialect == "sqlite"
                   else "(job_json::jsonb -> 'review') = 'true'::jsonb")
        rows = self._db.execute(
            f"SELECT {TXN_COLUMNS} FROM transactions WHERE origin = 'device'"
            f" AND type IN ('print', 'copy') AND {flagged}"
            " ORDER BY rowid DESC LIMIT ?", (limit,))
        return [(record, self.given_back(record)) for record in map(txn_record, rows.fetchall())]

    def given_back(self, charge: TxnRecord) -> int:
        """What central has given back for a charge: refunds of it, and refunds and
        adjustments that name its job."""
        by_job, params = (" OR job_id = ?", (charge.txn_id, charge.job_id)) if charge.job_id \
            else ("", (charge.txn_id,))
        return int(self._db.execute(  # a sum is NUMERIC on PostgreSQL
            "SELECT coalesce(sum(amount), 0) FROM transactions WHERE amount > 0 AND"
            f" origin IN ('refund', 'admin') AND (refund_of = ?{by_job})", params).fetchone()[0])

    def get_txn(self, txn_id: str) -> TxnRecord | None:
        row = self._db.execute(f"SELECT {TXN_COLUMNS} FROM transactions WHERE txn_id = ?",
                               (txn_id,)).fetchone()
        return txn_record(row) if row else None
