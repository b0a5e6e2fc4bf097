"""Enrolment at central: what a device may ask for, and the broker's password file, where
a redeemed token puts the device's own account. The tokens themselves are in central's
database (`central/storage/enrol_tokens.py`), shared by every instance.

The device's username is its id, so the ACL's `%u` patterns (central/broker.py) give it
exactly its own topic root, as for every device.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import signal
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
    """A token file central cannot read, with the line (or table) and the reason."""


def check_account(username: str, password_hash: str) -> None:
    """Before a token is spent: the account asked for must be one we can write."""
    if not _HASH.fullmatch(password_hash):
        raise EnrolRefused("password_hash is not a Mosquitto $7$ (PBKDF2-SHA512) hash")
    if username in RESERVED:
        raise EnrolRefused(f"{username!r} is reserved")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class PasswordFile:
    """Mosquitto's password file, rewritten whole (temp file + rename), then the broker
    reloads it on SIGHUP (pid from its pid file). Two enrolment services beside one broker
    take turns through a lock file next to it, so neither rewrite drops the other's line."""

    path: Path
    broker_pid_file: Path | None = None

    def set(self, username: str, password_hash: str) -> None:
        check_account(username, password_hash)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            self._rewrite(username, password_hash)
        self.reload()

    def _rewrite(self, username: str, password_hash: str) -> None:
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

    def reload(self) -> None:
        if self.broker_pid_file is None:
            return
        pid = int(self.broker_pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
