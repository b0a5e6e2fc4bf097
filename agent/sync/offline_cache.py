"""What the agent remembers of central for offline login: capped in size and age.

Codes and cards are kept only as HMAC-SHA256 tags under a device secret (a file readable by
the agent alone). A 6-digit code is guessable offline by anyone holding both the secret and
the cache, so the cache is small (default 100 users, as MyQ caps it) and short-lived.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

log = logging.getLogger("pagetally.sync.cache")


@dataclass(frozen=True)
class CachedAccount:
    user: str
    display_name: str
    balance: int
    restricted: bool
    credit_limit: int
    seen_at: float


def load_secret(path: Path) -> bytes:
    """The device's cache key, made on first use with mode 0600."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex())
        return key


class OfflineCache:
    def __init__(self, path: Path, secret: bytes, *, max_users: int = 100,
                 max_age_s: float = 7 * 86400) -> None:
        self.path = path
        self.secret = secret
        self.max_users = max_users
        self.max_age_s = max_age_s
        self._entries: dict[str, CachedAccount] = {}
        self._load()

    def tag(self, kind: str, value: str) -> str:
        return hmac.new(self.secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def remember(self, kind: str, value: str, account: CachedAccount) -> None:
        self._entries[self.tag(kind, value)] = account
        self._prune()
        self._save()

    def update_balances(self, balances: dict[str, int]) -> None:
        """Central's newest balances (from acks), so an offline login starts from them."""
        changed = False
        for tag, entry in self._entries.items():
            balance = balances.get(entry.user)
            if balance is not None and balance != entry.balance:
                self._entries[tag] = replace(entry, balance=balance)
                changed = True
        if changed:
            self._save()

    def lookup(self, kind: str, value: str) -> CachedAccount | None:
        entry = self._entries.get(self.tag(kind, value))
        if entry is None or time.time() - entry.seen_at > self.max_age_s:
            return None
        return entry

    def _prune(self) -> None:
        now = time.time()
        fresh = {k: v for k, v in self._entries.items() if now - v.seen_at <= self.max_age_s}
        users = sorted({v.user: v.seen_at for v in fresh.values()}.items(),
                       key=lambda item: item[1], reverse=True)
        keep = {user for user, _ in users[:self.max_users]}
        self._entries = {k: v for k, v in fresh.items() if v.user in keep}

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text())
            self._entries = {k: CachedAccount(**v) for k, v in raw.items()}
        except FileNotFoundError:
            self._entries = {}
        except (ValueError, TypeError) as exc:
            log.warning("offline cache %s is unreadable (%s); starting empty", self.path, exc)
            self._entries = {}

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: asdict(v) for k, v in self._entries.items()}))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
