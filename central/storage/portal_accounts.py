"""The web portal's own tables: sign-in accounts, invite links, sessions, failed sign-ins and
review decisions.

Kept apart from the money ledger: nothing here moves money, and a portal outage or a reset
of sessions never touches a balance. With SQLite they sit in a file of their own; with
PostgreSQL in the ledger's database (tables of their own), so every central instance behind
a load balancer sees the same sessions. Secrets are stored only as
digests: invite and session tokens as SHA-256 (they are 256-bit random, so a plain digest is
enough), passwords as argon2id hashes made by the caller.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from central.storage.sqldb import SqlDb, connect

Role = Literal["user", "admin"]
ROLES: tuple[Role, ...] = ("user", "admin")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    password_hash TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS invites (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')), created_at REAL NOT NULL,
    expires_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
CREATE TABLE IF NOT EXISTS signin_failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS signin_failures_key ON signin_failures (key, at);
CREATE TABLE IF NOT EXISTS review_decisions (
    txn_id TEXT PRIMARY KEY, decision TEXT NOT NULL, "by" TEXT NOT NULL, at REAL NOT NULL)
"""


@dataclass(frozen=True, slots=True)
class WebUser:
    username: str
    role: Role
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    role: Role
    csrf: str
    expires_at: float


class PortalAccounts:
    """One connection per thread (the web app's endpoints run in a thread pool)."""

    def __init__(self, url: Path | str) -> None:
        self.url = str(url)
        self._local = threading.local()
        with self._tx() as db:
            schema = _SCHEMA if db.dialect == "sqlite" else _SCHEMA.replace(
                " REAL", " DOUBLE PRECISION")  # PostgreSQL's REAL is 4 bytes: no seconds
            for statement in filter(str.strip, schema.split(";")):
                db.execute(statement)

    @property
    def _db(self) -> SqlDb:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.url)
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[SqlDb]:
        with self._db.transaction() as db:
            yield db

    # invites ----------------------------------------------------------------------------

    def add_invite(self, token_hash: str, username: str, role: Role, at: float,
                   expires_at: float) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO invites VALUES (?, ?, ?, ?, ?, NULL)",
                       (token_hash, username, role, at, expires_at))

    def invite(self, token_hash: str, at: float) -> tuple[str, Role] | None:
        """(username, role) of an unused, unexpired invite."""
        row = self._db.execute("SELECT username, role FROM invites WHERE token_hash = ?"
                               " AND used_at IS NULL AND expires_at > ?",
                               (token_hash, at)).fetchone()
        return (row[0], row[1]) if row else None

    def redeem_invite(self, token_hash: str, password_hash: str, at: float
                      ) -> tuple[str, Role] | None:
        """Use the invite once and set the password, in one commit; ends the user's sessions."""
        with self._tx() as db:
            row = db.execute("UPDATE invites SET used_at = ? WHERE token_hash = ?"
                             " AND used_at IS NULL AND expires_at > ? RETURNING username, role",
                             (at, token_hash, at)).fetchone()
            if row is None:
                return None
            db.execute("INSERT INTO web_users VALUES (?, ?, ?, ?) ON CONFLICT (username)"
                       " DO UPDATE SET role = excluded.role,"
                       " password_hash = excluded.password_hash", (row[0], row[1],
                                                                   password_hash, at))
            db.execute("DELETE FROM sessions WHERE username = ?", (row[0],))
        return row[0], row[1]

    # users and sessions -----------------------------------------------------------------

    def user(self, username: str) -> WebUser | None:
        row = self._db.execute("SELECT username, role, password_hash FROM web_users"
                               " WHERE username = ?", (username,)).fetchone()
        return WebUser(*row) if row else None

    def users(self) -> list[WebUser]:
        return [WebUser(*r) for r in self._db.execute(
            "SELECT username, role, password_hash FROM web_users ORDER BY username")]

    def add_session(self, token_hash: str, username: str, csrf: str, at: float,
                    expires_at: float) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE expires_at <= ?", (at,))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                       (token_hash, username, csrf, at, expires_at))

    def session(self, token_hash: str, at: float) -> Session | None:
        row = self._db.execute(
            "SELECT s.username, u.role, s.csrf, s.expires_at FROM sessions s"
            " JOIN web_users u USING (username) WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, at)).fetchone()
        return Session(*row) if row else None

    def end_session(self, token_hash: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    # failed sign-ins --------------------------------------------------------------------

    def record_failure(self, keys: list[str], at: float, keep_s: float) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM signin_failures WHERE at < ?", (at - keep_s,))
            db.executemany("INSERT INTO signin_failures VALUES (?, ?)", [(k, at) for k in keys])

    def failures(self, key: str, since: float) -> list[float]:
        return [t for (t,) in self._db.execute(
            "SELECT at FROM signin_failures WHERE key = ? AND at >= ? ORDER BY at",
            (key, since))]

    # the review queue's decisions that move no money ------------------------------------

    def decide(self, txn_id: str, decision: str, by: str, at: float) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO review_decisions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       (txn_id, decision, by, at))

    def decided(self) -> set[str]:
        return {t for (t,) in self._db.execute("SELECT txn_id FROM review_decisions")}
