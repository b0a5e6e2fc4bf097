"""The ledger on SQLite or PostgreSQL: accounts, codes, cards and the money path (device txns
and postings).

The other parts of the ledger live beside it as mixins on the same connection: groups and
quotas (`sql_groups`), scheduled runs and fee intents (`sql_runs`), membership links
and the bulk account sync (`sql_members`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import msgspec

from central.storage.apply import Seen, plan_batch
from central.storage.base import Account, ApplyResult, Rejection, StorageError, TxnRecord
from central.storage.records import Posting
from central.storage.sql_base import TXN_COLUMNS, iso, now, parse_iso, txn_record
from central.storage.sql_groups import GroupsMixin
from central.storage.sql_members import MembersMixin
from central.storage.sql_runs import RunsMixin
from central.storage.sqldb import IntegrityError
from contract import TxnPayload

__all__ = ["SqlLedger"]

_INSERT_TXN = (f"INSERT INTO transactions ({TXN_COLUMNS}) VALUES"
               " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    """IN lists of a bounded length (SQLite limits a statement's parameters)."""
    return [values[i:i + size] for i in range(0, len(values), size)]


def _txn_row(txn: TxnPayload, transacted_by: str, balance_after: int, applied_at: str
             ) -> tuple[object, ...]:
    job = txn.job
    return (str(txn.txn_id), txn.user, txn.type, txn.amount, balance_after, txn.currency,
            transacted_by, txn.note, txn.comment, iso(txn.occurred_at), applied_at, txn.site,
            txn.device, job.job_id if job else None,
            msgspec.json.encode(job).decode() if job else None,
            str(txn.refund_of) if txn.refund_of else None, "device")


class SqlLedger(GroupsMixin, RunsMixin, MembersMixin):
    """The ledger in one database, named by URL (`central.storage.sqldb`)."""

    # accounts ---------------------------------------------------------------------------

    def add_account(self, username: str, display_name: str, *, restricted: bool,
                    credit_limit: int, groups: Sequence[str]) -> Account:
        with self._tx() as db:
            try:
                db.execute("INSERT INTO accounts (username, display_name, restricted,"
                           " credit_limit, created_at) VALUES (?, ?, ?, ?, ?)",
                           (username, display_name, restricted, credit_limit, iso(now())))
            except IntegrityError:
                raise StorageError(f"user {username!r} already exists") from None
            self._join_groups(username, groups)
        return self._require(username)

    def _join_groups(self, username: str, groups: Sequence[str]) -> None:
        """Put the user in these groups, creating any group that does not exist yet."""
        stamp = iso(now())
        self._db.executemany("INSERT INTO groups (name, created_at) VALUES (?, ?)"
                             " ON CONFLICT DO NOTHING",
                             [(g, stamp) for g in groups])
        self._db.executemany("INSERT INTO account_groups VALUES (?, ?) ON CONFLICT DO NOTHING",
                             [(username, g) for g in groups])

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
                self._join_groups(username, groups)
        return self._require(username)

    def _require(self, username: str) -> Account:
        account = self.get_account(username)
        if account is None:
            raise StorageError(f"there is no user {username!r}")
        return account

    def get_account(self, username: str) -> Account | None:
        row = self._db.execute("SELECT username, display_name, balance, restricted,"
                               " credit_limit FROM accounts"
                               " WHERE username = ? AND removed_at IS NULL",
                               (username,)).fetchone()
        if row is None:
            return None
        groups = tuple(g for (g,) in self._db.execute(
            "SELECT group_name FROM account_groups WHERE username = ? ORDER BY group_name",
            (username,)))
        return Account(row[0], row[1], row[2], bool(row[3]), row[4], groups)

    def accounts(self) -> list[Account]:
        names = [n for (n,) in self._db.execute(
            "SELECT username FROM accounts WHERE removed_at IS NULL ORDER BY 1")]
        return [self._require(n) for n in names]

    # codes and cards --------------------------------------------------------------------

    def set_code(self, username: str, lookup_tag: str, code_hash: str) -> None:
        self._require(username)
        with self._tx() as db:
            try:
                db.execute("INSERT INTO access_codes VALUES (?, ?, ?, ?) ON CONFLICT (username)"
                           " DO UPDATE SET lookup_tag = excluded.lookup_tag,"
                           " code_hash = excluded.code_hash, set_at = excluded.set_at",
                           (username, lookup_tag, code_hash, iso(now())))
            except IntegrityError:
                raise StorageError("that code is already in use by another user;"
                                   " choose another") from None

    def set_pin(self, username: str, pin_hash: str | None) -> None:
        self._require(username)
        with self._tx() as db:
            db.execute("UPDATE accounts SET pin_hash = ? WHERE username = ?",
                       (pin_hash, username))

    def pin_hash(self, username: str) -> str | None:
        row = self._db.execute("SELECT pin_hash FROM accounts WHERE username = ?",
                               (username,)).fetchone()
        return row[0] if row else None

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
            db.execute("INSERT INTO cards VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       (card_number, username, iso(now())))

    def account_for_card(self, card_number: str) -> Account | None:
        row = self._db.execute("SELECT username FROM cards WHERE card_number = ?",
                               (card_number,)).fetchone()
        return self.get_account(row[0]) if row else None

    # transactions -----------------------------------------------------------------------

    def apply_txn(self, txn: TxnPayload, transacted_by: str) -> ApplyResult:
        return self.apply_batch([(txn, transacted_by)])[0]

    def apply_batch(self, txns: Sequence[tuple[TxnPayload, str]]) -> list[ApplyResult]:
        applied_at = iso(now())
        ids = sorted({str(t.txn_id) for t, _ in txns})
        with self._tx() as db:
            seen: dict[str, Seen] = {
                r[0]: (r[1], r[2], r[3]) for chunk in _chunks(ids) for r in db.execute(
                    "SELECT txn_id, username, type, amount FROM transactions WHERE txn_id IN"
                    f" ({', '.join('?' * len(chunk))})", chunk)}
            users = sorted({t.user for t, _ in txns} | {s[0] for s in seen.values()})
            balances: dict[str, int] = {
                r[0]: r[1] for chunk in _chunks(users) for r in db.execute(
                    "SELECT username, balance FROM accounts WHERE username IN"
                    f" ({', '.join('?' * len(chunk))})", chunk)}
            plan = plan_batch(txns, seen, balances, self.currency)
            db.executemany("UPDATE accounts SET balance = ? WHERE username = ?",
                           [(b, u) for u, b in plan.balances.items()])
            db.insert_many("transactions", TXN_COLUMNS,
                           [_txn_row(t, by, after, applied_at) for t, by, after in plan.inserts])
        return plan.results

    def post(self, postings: Sequence[Posting]) -> list[ApplyResult]:
        """Apply central's own postings in ONE commit, each once by its posting_id."""
        applied_at = iso(now())
        with self._tx():
            return [self._post_one(p, applied_at) for p in postings]

    def _post_one(self, posting: Posting, applied_at: str) -> ApplyResult:
        db = self._db
        pid = posting.posting_id
        row = db.execute("SELECT balance FROM accounts WHERE username = ?",
                         (posting.username,)).fetchone()
        if row is None:
            return ApplyResult(pid, "rejected", 0, f"there is no user {posting.username!r}")
        balance = row[0]
        if db.execute("SELECT 1 FROM transactions WHERE txn_id = ?", (pid,)).fetchone():
            return ApplyResult(pid, "duplicate", balance)
        amount = posting.amount - balance if posting.mode == "reset" else posting.amount
        if posting.mode == "add" and posting.cap is not None:
            amount = min(amount, max(0, posting.cap - balance))
        if amount == 0:
            return ApplyResult(pid, "unchanged", balance)
        new_balance = balance + amount
        job_id = (msgspec.json.decode(posting.job_json).get("job_id")
                  if posting.job_json else None)
        db.execute("UPDATE accounts SET balance = ? WHERE username = ?",
                   (new_balance, posting.username))
        db.execute(_INSERT_TXN, (
            pid, posting.username, posting.type, amount, new_balance, self.currency,
            posting.transacted_by, posting.note, posting.comment,
            iso(posting.occurred_at) if posting.occurred_at else applied_at, applied_at, "", "",
            job_id, posting.job_json, posting.refund_of, posting.origin))
        return ApplyResult(pid, "applied", new_balance)

    def record_rejection(self, txn_id: str | None, site: str, device: str, reason: str,
                         payload: bytes) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO rejected_txns (txn_id, site, device, reason, payload, at)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
                       (txn_id, site, device, reason, payload[:65536], iso(now())))

    def rejections(self, limit: int = 100) -> list[Rejection]:
        rows = self._db.execute("SELECT txn_id, site, device, reason, at FROM rejected_txns"
                                " ORDER BY id DESC LIMIT ?", (limit,))
        return [Rejection(r[0], r[1], r[2], r[3], parse_iso(r[4])) for r in rows]

    def _records(self, where: str, params: Sequence[object]) -> list[TxnRecord]:
        rows = self._db.execute(f"SELECT {TXN_COLUMNS} FROM transactions {where}", params)
        return [txn_record(r) for r in rows]

    def get_txn(self, txn_id: str) -> TxnRecord | None:
        found = self._records("WHERE txn_id = ?", (txn_id,))
        return found[0] if found else None

    def txns_for_job(self, job_id: str) -> list[TxnRecord]:
        return self._records("WHERE job_id = ? ORDER BY rowid", (job_id,))

    def refunds_of(self, txn_id: str) -> list[TxnRecord]:
        return self._records("WHERE refund_of = ? ORDER BY rowid", (txn_id,))

    def transactions(self, username: str, since: dt.datetime | None = None,
                     limit: int | None = None) -> list[TxnRecord]:
        bounded = " LIMIT ?" if limit else ""
        return self._records("WHERE username = ? AND occurred_at >= ? ORDER BY rowid DESC"
                             + bounded, (username, iso(since) if since else "",
                                         *((limit,) if limit else ())))

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
