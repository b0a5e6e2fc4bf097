"""The SQLite connection every part of the ledger shares: WAL, synchronous=FULL, migrations.

Single writer by design: central's DB worker, its scheduler and the admin CLI own one
connection each, and `BEGIN IMMEDIATE` makes a second writer wait instead of failing half way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from central.storage.base import StorageError, TxnRecord
from central.storage.sqlite_migrations import MIGRATIONS


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


class SqliteBase:
    """Opens (and migrates) the file; `_tx()` is one immediate transaction."""

    def __init__(self, path: Path | str, currency: str = "EUR") -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        with self._tx():
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('currency', ?)", (currency,))
        self.currency: str = self._db.execute(
            "SELECT value FROM meta WHERE key = 'currency'").fetchone()[0]

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StorageError(f"the database {self.path} is from a newer PageTally (schema"
                               f" {version}, this one knows {len(MIGRATIONS)}); upgrade first")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._tx():
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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
