"""The database connection every part of the ledger shares, migrated on open.

Single writer by design: central's DB worker, its scheduler and the admin CLI own one
connection each, and a write transaction makes a second writer wait instead of failing half
way (SQLite `BEGIN IMMEDIATE`, a PostgreSQL advisory lock; `central.storage.sqldb`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from central.storage.base import TxnRecord
from central.storage.migrations import migrate
from central.storage.sqldb import SqlDb, connect


def iso(when: dt.datetime) -> str:
    """Fixed-width UTC text, so string order is time order."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


TXN_COLUMNS = ("txn_id, username, type, amount, balance_after, currency, transacted_by,"
               " system_note, comment, occurred_at, applied_at, site, device, job_id,"
               " job_json, refund_of, origin")


def txn_record(r: Sequence[Any]) -> TxnRecord:
    """A `transactions` row read in TXN_COLUMNS order."""
    return TxnRecord(
        txn_id=r[0], username=r[1], type=r[2], amount=r[3], balance_after=r[4],
        currency=r[5], transacted_by=r[6], system_note=r[7], comment=r[8],
        occurred_at=parse_iso(r[9]), applied_at=parse_iso(r[10]), site=r[11], device=r[12],
        job_id=r[13], job_json=r[14], refund_of=r[15], origin=r[16])


class SqlBase:
    """Opens (and migrates) the database; `_tx()` is one write transaction (one writer at a
    time, see `central.storage.sqldb`)."""

    def __init__(self, url: Path | str, currency: str = "EUR") -> None:
        self.url = str(url)
        self._db: SqlDb = connect(url)
        self.dialect = self._db.dialect
        migrate(self._db)
        with self._tx() as db:
            db.execute("INSERT INTO meta VALUES ('currency', ?) ON CONFLICT (key) DO NOTHING",
                       (currency,))
        self.currency: str = self._db.execute(
            "SELECT value FROM meta WHERE key = 'currency'").fetchone()[0]

    @contextlib.contextmanager
    def _tx(self) -> Iterator[SqlDb]:
        with self._db.transaction() as db:
            yield db

    def close(self) -> None:
        self._db.close()

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"setting.{key}",))
        found = row.fetchone()
        return found[0] if found else None

    def set_setting(self, key: str, value: str | None) -> None:
        with self._tx() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (f"setting.{key}",))
            else:
                db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                           " SET value = excluded.value", (f"setting.{key}", value))

    def settings(self) -> dict[str, str]:
        return {k.removeprefix("setting."): v for k, v in self._db.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'setting.%' ORDER BY key")}
