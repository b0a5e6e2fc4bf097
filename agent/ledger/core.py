"""The ledger's plumbing: one connection under a lock, one IMMEDIATE transaction per step,
and the rows every kind of session writes (its `sessions` row, its txns)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import msgspec
import uuid6

from agent.ledger.db import open_database
from agent.ledger.models import (
    EvidenceSource,
    Kind,
    SessionKind,
    Txn,
    TxnType,
    txn_from_row,
)
from agent.money import exponent


def utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerCore:
    """Thread-safe: one connection guarded by a lock, so the daemon may call the ledger
    through `asyncio.to_thread`."""

    def __init__(
        self,
        path: str | Path,
        *,
        device: str,
        site: str,
        currency: str = "EUR",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        exponent(currency)  # refuse a bad currency code before touching the disk
        self.path = Path(path)
        self.device = device
        self.site = site
        self.currency = currency
        self._clock = clock
        self._lock = threading.RLock()
        self.db = open_database(path)
        self._conn: sqlite3.Connection = self.db.conn
        self.on_money: Callable[[], None] | None = None
        """Called after each commit that wrote a txn, from the thread that committed: the
        outbox wakes because money was written, whatever the step that wrote it."""
        self._money_written = False

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One IMMEDIATE transaction: takes the write lock up front, so no upgrade deadlock."""
        with self._lock:
            self._money_written = False
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            if self._money_written and self.on_money is not None:
                self.on_money()

    def _now(self) -> str:
        return (
            self._clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )

    def _txns(self, where: str, params: tuple[Any, ...]) -> list[Txn]:
        with self._lock:
            return [
                txn_from_row(r) for r in self.db.query(f"SELECT * FROM txns WHERE {where}", params)
            ]

    def _txn_for(self, session_key: str, kind: Kind) -> Txn | None:
        found = self._txns("session_key = ? AND kind = ?", (session_key, kind))
        return found[0] if found else None

    def _insert_session(self, session_key: str, kind: SessionKind, evidence: EvidenceSource,
                        printer: str, user: str, now: str) -> None:
        self._conn.execute(
            "INSERT INTO sessions (session_key, kind, evidence, printer, user, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (session_key, kind, evidence, printer, user, now))

    def _insert_txn(
        self, *, kind: Kind, type_: TxnType, user: str, amount: int, session_key: str | None,
        reason: str | None, note: str, job: dict[str, Any], now: str,
    ) -> Txn:  # fmt: skip
        txn_id = str(uuid6.uuid7())
        self._money_written = True
        self._conn.execute(
            "INSERT INTO txns (txn_id, seq, session_key, kind, type, user, amount, currency,"
            " reason,"
            " note, occurred_at, job_json)"
            " VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM txns),"
            " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (txn_id, session_key, kind, type_, user, amount, self.currency, reason, note, now,
             msgspec.json.encode(job, order="sorted").decode()),
        )  # fmt: skip
        return self._txns("txn_id = ?", (txn_id,))[0]
