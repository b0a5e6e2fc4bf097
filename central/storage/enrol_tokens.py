"""Device enrolment tokens in central's database (SQLite or PostgreSQL), so every central
instance on one database knows every token and a token works once across all of them.

Only a token's SHA-256 is kept: tokens are 256 random bits (`provision/tokens.py`), so a
plain digest cannot be reversed or guessed. A token is bound to one site and device,
expires, and is used once: redeeming is one UPDATE that matches only an unused, unexpired
token for that device. The database applies it row by row (SQLite serialises writers;
PostgreSQL makes the second UPDATE wait on the row and re-check `used_at`), so of two
instances redeeming one token at the same moment exactly one changes the row. The UPDATE
runs outside the ledger's writer lock: it touches no money and should not queue behind it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from central.enrol import EnrolRefused, TokenFileError, digest
from central.storage.migrations import migrate
from central.storage.sql_base import iso
from central.storage.sqldb import DatabaseError, SqlDb, SqliteDb, connect

_SHA256 = re.compile(r"[0-9a-f]{64}")
_INSERT = ("INSERT INTO enrolment_tokens (sha256, site, device, expires_at, used_at,"
           " password_hash) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING")


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One line of `enrol-tokens.jsonl` (or one row of an old tokens file)."""

    sha256: str
    site: str
    device: str
    expires: dt.datetime
    used_at: dt.datetime | None = None
    password_hash: str | None = None

    def row(self) -> tuple[str, str, str, str, str | None, str | None]:
        return (self.sha256, self.site, self.device, iso(self.expires),
                iso(self.used_at) if self.used_at else None, self.password_hash)


def parse_lines(lines: list[str], source: str) -> list[TokenRecord]:
    """The `enrol-tokens.jsonl` that `pagetally provision` wrote, every line checked."""
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            record = TokenRecord(str(rec["sha256"]), str(rec["site"]), str(rec["device"]),
                                 dt.datetime.fromisoformat(rec["expires"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenFileError(f"{source} line {n}: not a token record ({exc})") from None
        if not _SHA256.fullmatch(record.sha256):
            raise TokenFileError(f"{source} line {n}: sha256 is not 64 hex digits")
        if record.expires.tzinfo is None:
            raise TokenFileError(f"{source} line {n}: expires has no time zone")
        records.append(record)
    return records


def read_old_file(path: Path) -> list[TokenRecord]:
    """Every token of the SQLite file enrolment used before it moved into central's
    database (`--tokens-db`), used or not, so a used token stays used after the move."""
    if not path.is_file():
        raise TokenFileError(f"{path}: no such file")
    try:
        old = SqliteDb(path, read_only=True)
        try:
            rows = old.execute("SELECT sha256, site, device, expires, used_at, password_hash"
                               " FROM enrol_tokens").fetchall()
        finally:
            old.close()
        return [TokenRecord(r[0], r[1], r[2], dt.datetime.fromisoformat(r[3]),
                            dt.datetime.fromisoformat(r[4]) if r[4] else None, r[5])
                for r in rows]
    except (DatabaseError, sqlite3.Error, ValueError, TypeError) as exc:
        raise TokenFileError(f"{path}: not an enrolment tokens file ({exc})") from None


class TokenStore:
    """The `enrolment_tokens` table of central's database, migrated on open."""

    def __init__(self, url: str | Path) -> None:
        self.db: SqlDb = connect(url)
        try:
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def add(self, records: list[TokenRecord]) -> int:
        """All or nothing; a token already known is left as it is (importing a file twice
        does not make a used token usable again). Returns how many were new."""
        with self.db.transaction() as db:
            before = db.execute("SELECT count(*) FROM enrolment_tokens").fetchone()[0]
            db.executemany(_INSERT, [r.row() for r in records])
            after = db.execute("SELECT count(*) FROM enrolment_tokens").fetchone()[0]
        return int(after) - int(before)

    def redeem(self, token: str, site: str, device: str, password_hash: str,
               now: dt.datetime) -> None:
        """Use the token once, for this device only, before it expires; else EnrolRefused.

        The same request again (same token and hash: the device retried because our answer
        was lost) is granted again, so a crash between redeeming and answering strands no one.
        """
        sha, at = digest(token), iso(now)
        done = self.db.execute(
            "UPDATE enrolment_tokens SET used_at = ?, password_hash = ? WHERE sha256 = ?"
            " AND site = ? AND device = ? AND used_at IS NULL AND expires_at > ?",
            (at, password_hash, sha, site, device, at))
        if done.rowcount == 1:
            return
        row = self.db.execute("SELECT site, device, expires_at, used_at, password_hash"
                              " FROM enrolment_tokens WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise EnrolRefused("unknown token (was the site's token file imported at central?)")
        if (row[0], row[1]) != (site, device):
            raise EnrolRefused("this token belongs to another device")
        if row[3] is not None:
            if row[4] == password_hash:
                return
            raise EnrolRefused(f"token already used at {row[3]}")
        raise EnrolRefused(f"token expired at {row[2]}; provision the card again")
