"""SQLite ledger: WAL, synchronous=FULL, versioned migrations, one transaction per change.

Single writer by design: central's DB worker (and the admin CLI) own one connection each,
and `BEGIN IMMEDIATE` makes a second writer wait instead of failing half way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec

from central.storage.base import Account, ApplyResult, Rejection, StorageError, TxnRecord
from contract import TxnPayload

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (
        username TEXT PRIMARY KEY, display_name TEXT NOT NULL,
        balance INTEGER NOT NULL DEFAULT 0, restricted INTEGER NOT NULL DEFAULT 1,
        credit_limit INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
    CREATE TABLE account_groups (
        username TEXT NOT NULL REFERENCES accounts ON DELETE CASCADE,
        group_name TEXT NOT NULL, PRIMARY KEY (username, group_name));
    CREATE TABLE access_codes (
        username TEXT PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
        lookup_tag TEXT NOT NULL UNIQUE, code_hash TEXT NOT NULL, set_at TEXT NOT NULL);
    CREATE TABLE cards (
        card_number TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES accounts ON DELETE CASCADE, added_at TEXT NOT NULL);
    CREATE TABLE transactions (
        txn_id TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES accounts,
        type TEXT NOT NULL CHECK (type IN ('print', 'copy', 'refund', 'adjustment')),
        amount INTEGER NOT NULL, balance_after INTEGER NOT NULL, currency TEXT NOT NULL,
        transacted_by TEXT NOT NULL, system_note TEXT NOT NULL, comment TEXT NOT NULL,
        occurred_at TEXT NOT NULL, applied_at TEXT NOT NULL, site TEXT NOT NULL,
        device TEXT NOT NULL, job_id TEXT, job_json TEXT, refund_of TEXT);
    CREATE INDEX transactions_user ON transactions (username, occurred_at);
    CREATE INDEX transactions_job ON transactions (job_id) WHERE job_id IS NOT NULL;
    CREATE INDEX transactions_refund ON transactions (refund_of) WHERE refund_of IS NOT NULL;
    CREATE TABLE rejected_txns (
        id INTEGER PRIMARY KEY, txn_id TEXT, site TEXT NOT NULL, device TEXT NOT NULL,
        reason TEXT NOT NULL, payload BLOB NOT NULL, at TEXT NOT NULL);
    CREATE TABLE auth_failures (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX auth_failures_key ON auth_failures (key, at);
    """,
)

_TXN_COLUMNS = ("txn_id, username, type, amount, balance_after, currency, transacted_by,"
                " system_note, comment, occurred_at, applied_at, site, device, job_id,"
                " job_json, refund_of")


def iso(when: dt.datetime) -> str:
    """Fixed-width UTC text, so string order is time order."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqliteLedger:
    """The ledger in one SQLite file."""

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

    # accounts ---------------------------------------------------------------------------

    def add_account(self, username: str, display_name: str, *, restricted: bool,
                    credit_limit: int, groups: Sequence[str]) -> Account:
        with self._tx() as db:
            try:
                db.execute("INSERT INTO accounts (username, display_name, restricted,"
                           " credit_limit, created_at) VALUES (?, ?, ?, ?, ?)",
                           (username, display_name, restricted, credit_limit, iso(_now())))
            except sqlite3.IntegrityError:
                raise StorageError(f"user {username!r} already exists") from None
            db.executemany("INSERT OR IGNORE INTO account_groups VALUES (?, ?)",
                           [(username, g) for g in groups])
        return self._require(username)

    def update_account(self, username: str, *, display_name: str | None = None,
                       restricted: bool | None = None, credit_limit: int | None = None,
                       groups: Sequence[str] | None = None) -> Account:
        self._require(username)
        with self._tx() as db:
            for column, value in (("display_name", display_name), ("restricted", restricted),
                                  ("credit_limit", credit_limit)):
                if value is not None:
                    db.execute(f"UPDATE accounts SET {column} = ? WHERE username = ?",
                               (value, username))
            if groups is not None:
                db.execute("DELETE FROM account_groups WHERE username = ?", (username,))
                db.executemany("INSERT OR IGNORE INTO account_groups VALUES (?, ?)",
                               [(username, g) for g in groups])
        return self._require(username)

    def _require(self, username: str) -> Account:
        account = self.get_account(username)
        if account is None:
            raise StorageError(f"there is no user {username!r}")
        return account

    def get_account(self, username: str) -> Account | None:
        row = self._db.execute("SELECT username, display_name, balance, restricted,"
                               " credit_limit FROM accounts WHERE username = ?",
                               (username,)).fetchone()
        if row is None:
            return None
        groups = tuple(g for (g,) in self._db.execute(
            "SELECT group_name FROM account_groups WHERE username = ? ORDER BY group_name",
            (username,)))
        return Account(row[0], row[1], row[2], bool(row[3]), row[4], groups)

    def accounts(self) -> list[Account]:
        names = [n for (n,) in self._db.execute("SELECT username FROM accounts ORDER BY 1")]
        return [self._require(n) for n in names]

    # codes and cards --------------------------------------------------------------------

    def set_code(self, username: str, lookup_tag: str, code_hash: str) -> None:
        self._require(username)
        with self._tx() as db:
            try:
                db.execute("INSERT INTO access_codes VALUES (?, ?, ?, ?) ON CONFLICT (username)"
                           " DO UPDATE SET lookup_tag = excluded.lookup_tag,"
                           " code_hash = excluded.code_hash, set_at = excluded.set_at",
                           (username, lookup_tag, code_hash, iso(_now())))
            except sqlite3.IntegrityError:
                raise StorageError("that code is already in use by another user;"
                                   " choose another") from None

    def code_hash_for_tag(self, lookup_tag: str) -> tuple[str, str] | None:
        row = self._db.execute("SELECT username, code_hash FROM access_codes"
                               " WHERE lookup_tag = ?", (lookup_tag,)).fetchone()
        return (row[0], row[1]) if row else None

    def add_card(self, username: str, card_number: str) -> None:
        self._require(username)
        with self._tx() as db:
            owner = db.execute("SELECT username FROM cards WHERE card_number = ?",
                               (card_number,)).fetchone()
            if owner and owner[0] != username:
                raise StorageError(f"card {card_number} already belongs to {owner[0]!r}")
            db.execute("INSERT OR IGNORE INTO cards VALUES (?, ?, ?)",
                       (card_number, username, iso(_now())))

    def account_for_card(self, card_number: str) -> Account | None:
        row = self._db.execute("SELECT username FROM cards WHERE card_number = ?",
                               (card_number,)).fetchone()
        return self.get_account(row[0]) if row else None

    # transactions -----------------------------------------------------------------------

    def apply_txn(self, txn: TxnPayload, transacted_by: str) -> ApplyResult:
        return self.apply_batch([(txn, transacted_by)])[0]

    def apply_batch(self, txns: Sequence[tuple[TxnPayload, str]]) -> list[ApplyResult]:
        applied_at = iso(_now())
        with self._tx():
            return [self._apply_one(txn, by, applied_at) for txn, by in txns]

    def _apply_one(self, txn: TxnPayload, transacted_by: str, applied_at: str) -> ApplyResult:
        txn_id = str(txn.txn_id)
        db = self._db
        seen = db.execute("SELECT username, type, amount FROM transactions WHERE txn_id = ?",
                          (txn_id,)).fetchone()
        account = db.execute("SELECT balance FROM accounts WHERE username = ?",
                             (seen[0] if seen else txn.user,)).fetchone()
        balance = account[0] if account else 0
        if seen:
            if tuple(seen) != (txn.user, txn.type, txn.amount):
                return ApplyResult(txn_id, "rejected", balance,
                                   f"txn_id {txn_id} was already used for a different"
                                   f" transaction ({seen[1]} of {seen[2]} for {seen[0]!r})")
            return ApplyResult(txn_id, "duplicate", balance)
        if account is None:
            return ApplyResult(txn_id, "rejected", 0, f"there is no user {txn.user!r}")
        if txn.currency != self.currency:
            return ApplyResult(txn_id, "rejected", balance,
                               f"currency {txn.currency} does not match the ledger's"
                               f" {self.currency}")
        new_balance = balance + txn.amount
        db.execute("UPDATE accounts SET balance = ? WHERE username = ?", (new_balance, txn.user))
        job = txn.job
        db.execute(
            f"INSERT INTO transactions ({_TXN_COLUMNS}) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (txn_id, txn.user, txn.type, txn.amount, new_balance, txn.currency, transacted_by,
             txn.note, txn.comment, iso(txn.occurred_at), applied_at, txn.site, txn.device,
             job.job_id if job else None,
             msgspec.json.encode(job).decode() if job else None,
             str(txn.refund_of) if txn.refund_of else None))
        return ApplyResult(txn_id, "applied", new_balance)

    def record_rejection(self, txn_id: str | None, site: str, device: str, reason: str,
                         payload: bytes) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO rejected_txns (txn_id, site, device, reason, payload, at)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
                       (txn_id, site, device, reason, payload[:65536], iso(_now())))

    def rejections(self, limit: int = 100) -> list[Rejection]:
        rows = self._db.execute("SELECT txn_id, site, device, reason, at FROM rejected_txns"
                                " ORDER BY id DESC LIMIT ?", (limit,))
        return [Rejection(r[0], r[1], r[2], r[3], _parse_iso(r[4])) for r in rows]

    def _records(self, where: str, params: Sequence[object]) -> list[TxnRecord]:
        rows = self._db.execute(f"SELECT {_TXN_COLUMNS} FROM transactions {where}", params)
        return [TxnRecord(*r[:9], _parse_iso(r[9]), _parse_iso(r[10]), *r[11:]) for r in rows]

    def get_txn(self, txn_id: str) -> TxnRecord | None:
        found = self._records("WHERE txn_id = ?", (txn_id,))
        return found[0] if found else None

    def txns_for_job(self, job_id: str) -> list[TxnRecord]:
        return self._records("WHERE job_id = ? ORDER BY rowid", (job_id,))

    def refunds_of(self, txn_id: str) -> list[TxnRecord]:
        return self._records("WHERE refund_of = ? ORDER BY rowid", (txn_id,))

    def transactions(self, username: str, since: dt.datetime | None = None,
                     limit: int | None = None) -> list[TxnRecord]:
        return self._records("WHERE username = ? AND occurred_at >= ? ORDER BY rowid DESC"
                             " LIMIT ?", (username, iso(since) if since else "", limit or -1))

    def all_transactions(self) -> Iterator[TxnRecord]:
        yield from self._records("ORDER BY rowid", ())

    # failed sign-in attempts ------------------------------------------------------------

    def record_auth_failure(self, keys: Sequence[str], at: float, window_s: float) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM auth_failures WHERE at < ?", (at - window_s,))
            db.executemany("INSERT INTO auth_failures (key, at) VALUES (?, ?)",
                           [(k, at) for k in keys])

    def auth_failures(self, key: str, since: float) -> list[float]:
        return [t for (t,) in self._db.execute(
            "SELECT at FROM auth_failures WHERE key = ? AND at >= ? ORDER BY at",
            (key, since))]
