"""One connection to the ledger's database, SQLite or PostgreSQL, behind the same few calls.

The ledger's SQL is written once, in the subset both databases speak (`?` placeholders,
`ON CONFLICT`, ISO-8601 text for times, a `rowid` to keep insertion order: implicit in
SQLite, an identity column in PostgreSQL). This module carries the rest of the difference:

* placeholders: `?` becomes psycopg's `%s` (and a literal `%` is doubled);
* booleans: stored as integers on both, so a Python bool is sent as 0 or 1;
* one writer at a time: SQLite's `BEGIN IMMEDIATE` serialises the writers of one file; on
  PostgreSQL every write transaction first takes one transaction-scoped advisory lock, so
  several central instances on one database apply money in a single order, exactly as one
  instance on SQLite does. Reads take no lock (SQLite WAL and PostgreSQL MVCC both let them
  run beside a writer). Throughput stays high because the service commits in batches;
* integrity errors (a taken primary key or unique value) are one exception type here.

The database is named by a URL: `sqlite:///path/to/ledger.db` (or a plain path) or
`postgresql://user@host:port/dbname`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]
Params = Sequence[Any]

#: the key of the advisory lock every PostgreSQL write transaction takes ("PageTally").
WRITER_LOCK = 0x50616765


class DatabaseError(Exception):
    """The database could not be opened or used, in plain words."""


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached, or the connection went: worth trying again later."""


class IntegrityError(DatabaseError):
    """A primary key or unique value is already taken (trying again will not help)."""


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


def describe(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def is_postgres(url: str | Path) -> bool:
    return str(url).startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str | Path) -> Path:
    text = str(url)
    return Path(text.removeprefix("sqlite://") if text.startswith("sqlite:///") else text)


def _plain(params: Params) -> tuple[Any, ...]:
    """PostgreSQL's integer columns refuse a bool; SQLite takes one as 0 or 1 by itself."""
    return tuple(int(p) if isinstance(p, bool) else p for p in params)


class SqlDb(Protocol):
    """The calls the ledger uses; `dialect` says which database is underneath."""

    dialect: Dialect
    name: str

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def insert_many(self, table: str, columns: str, rows: Sequence[Params]) -> None:
        """Insert many rows (`columns` as in an INSERT's column list) the store's fastest
        way."""

    def transaction(self) -> contextlib.AbstractContextManager[SqlDb]: ...

    def close(self) -> None: ...


class SqliteDb:
    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.name = str(path)
        try:
            if read_only:
                self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0,
                                             isolation_level=None)
            else:
                self._conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the ledger {path}: {exc}") from None

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        try:
            return self._conn.execute(sql, params)  # sqlite3 stores a bool as 0 or 1
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def insert_many(self, table: str, columns: str, rows: Sequence[Params]) -> None:
        marks = ", ".join("?" * (columns.count(",") + 1))
        self.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[SqlDb]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


class PostgresDb:
    """A connection that outlives the server: a lost connection is one `DatabaseUnavailable`
    (the caller's transaction did not happen), and the next statement outside a transaction
    connects again, so central rides out a PostgreSQL restart or failover."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        try:  # only where PostgreSQL is used: the agent never loads it
            import psycopg
        except ModuleNotFoundError:
            raise DatabaseError("a postgresql:// ledger needs the optional part 'postgres':"
                                " pip install 'pagetally[postgres]'") from None

        self._psycopg = psycopg
        self._url = url
        self._options = "-c default_transaction_read_only=on" if read_only else ""
        self.name = describe(url)
        self._in_tx = False
        self._conn = self._connect()

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self._url, autocommit=True, options=self._options,
                                         connect_timeout=10)
        except self._psycopg.Error as exc:
            raise DatabaseUnavailable(f"cannot connect to the ledger at {self.name}: "
                                f"{str(exc).strip()}") from None

    def _live(self) -> Any:
        if self._conn.broken or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        psycopg = self._psycopg
        try:
            yield
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(str(exc).strip()) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise DatabaseUnavailable(f"lost the connection to the ledger at {self.name}: "
                                f"{str(exc).strip() or type(exc).__name__}") from exc

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        with self._errors():
            conn = self._conn if self._in_tx else self._live()
            return conn.execute(self._sql(sql), _plain(params))

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with self._errors():
            conn = self._conn if self._in_tx else self._live()
            with conn.cursor() as cur:
                cur.executemany(self._sql(sql), [_plain(r) for r in rows])

    def insert_many(self, table: str, columns: str, rows: Sequence[Params]) -> None:
        """COPY: executemany sends and runs one statement a row, which made the insert most
        of a batch's commit; a many-row INSERT costs psycopg a parse of a huge query."""
        with self._errors():
            conn = self._conn if self._in_tx else self._live()
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_plain(row))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[SqlDb]:
        with self._errors():
            conn = self._live()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
                self._in_tx = True
                try:
                    yield self
                finally:
                    self._in_tx = False

    def close(self) -> None:
        self._conn.close()


def connect(url: str | Path, *, read_only: bool = False) -> SqlDb:
    """Open the database a URL (or a plain SQLite path) names."""
    if is_postgres(url):
        return PostgresDb(str(url), read_only=read_only)
    if str(url).startswith("sqlite:") and not str(url).startswith("sqlite:///"):
        raise DatabaseError(f"{url!r} is not a database URL: use sqlite:///path/to/ledger.db"
                            " or postgresql://user@host:port/dbname")
    return SqliteDb(sqlite_path(url), read_only=read_only)
