"""Enrolment at central: one-time tokens (only their SHA-256 kept) and the broker's
password file, where a redeemed token puts the device's own account.

A token is bound to one site and device, expires, and is used once: redeeming is one
UPDATE that matches only an unused, unexpired token for that device, so two racing requests
cannot both win. The device's username is its id, so the ACL's `%u` patterns
(central/broker.py) give it exactly its own topic root, as for every device.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from central.broker import CENTRAL_USER, ENROL_USER

# Mosquitto's PBKDF2-SHA512 line: $7$iterations$base64 salt$base64 hash (64 bytes).
_HASH = re.compile(r"^\$7\$[1-9][0-9]{0,6}\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$")
RESERVED = frozenset({CENTRAL_USER, ENROL_USER})


class EnrolRefused(Exception):
    """A request central will not grant; the message goes back to the device as is."""


class TokenFileError(Exception):
    """An import file central cannot read, with the line and the reason."""


def check_account(username: str, password_hash: str) -> None:
    """Before a token is spent: the account asked for must be one we can write."""
    if not _HASH.fullmatch(password_hash):
        raise EnrolRefused("password_hash is not a Mosquitto $7$ (PBKDF2-SHA512) hash")
    if username in RESERVED:
        raise EnrolRefused(f"{username!r} is reserved")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Token digests in their own small SQLite file (not the money ledger)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("""CREATE TABLE IF NOT EXISTS enrol_tokens (
            sha256 TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL,
            expires TEXT NOT NULL, used_at TEXT, password_hash TEXT)""")

    def close(self) -> None:
        self.db.close()

    def add(self, sha256: str, site: str, device: str, expires: dt.datetime) -> None:
        self.db.execute("INSERT OR IGNORE INTO enrol_tokens VALUES (?, ?, ?, ?, NULL, NULL)",
                        (sha256, site, device, expires.astimezone(dt.UTC).isoformat()))

    def import_lines(self, lines: list[str], source: str) -> int:
        """The `enrol-tokens.jsonl` that `pagetally provision` wrote; all or nothing."""
        rows = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                rows.append((str(rec["sha256"]), str(rec["site"]), str(rec["device"]),
                             dt.datetime.fromisoformat(rec["expires"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise TokenFileError(f"{source} line {n}: not a token record ({exc})") from None
            if not re.fullmatch(r"[0-9a-f]{64}", rows[-1][0]):
                raise TokenFileError(f"{source} line {n}: sha256 is not 64 hex digits")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for row in rows:
                self.add(*row)
        except sqlite3.Error:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return len(rows)

    def redeem(self, token: str, site: str, device: str, password_hash: str,
               now: dt.datetime) -> None:
        """Use the token once, for this device only, before it expires; else EnrolRefused.

        The same request again (same token and hash: the device retried because our answer
        was lost) is granted again, so a crash between redeeming and answering strands no one.
        """
        sha = digest(token)
        done = self.db.execute(
            "UPDATE enrol_tokens SET used_at = ?, password_hash = ? WHERE sha256 = ?"
            " AND site = ? AND device = ? AND used_at IS NULL AND expires > ?",
            (now.isoformat(), password_hash, sha, site, device, now.isoformat()))
        if done.rowcount == 1:
            return
        row = self.db.execute("SELECT site, device, expires, used_at, password_hash"
                              " FROM enrol_tokens WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise EnrolRefused("unknown token (was the site's token file imported at central?)")
        if (row[0], row[1]) != (site, device):
            raise EnrolRefused("this token belongs to another device")
        if row[3] is not None:
            if row[4] == password_hash:
                return
            raise EnrolRefused(f"token already used at {row[3]}")
        raise EnrolRefused(f"token expired at {row[2]}; provision the card again")


@dataclass
class PasswordFile:
    """Mosquitto's password file, rewritten whole (temp file + rename), then the broker
    reloads it on SIGHUP (pid from its pid file)."""

    path: Path
    broker_pid_file: Path | None = None

    def set(self, username: str, password_hash: str) -> None:
        check_account(username, password_hash)
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        kept = [line for line in lines if line.split(":", 1)[0] != username]
        text = "\n".join([*kept, f"{username}:{password_hash}"]) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".passwd-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if self.path.exists():
                os.chmod(tmp, self.path.stat().st_mode & 0o777)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.reload()

    def reload(self) -> None:
        if self.broker_pid_file is None:
            return
        pid = int(self.broker_pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
