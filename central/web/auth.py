"""Sign-in rules for the portal: passwords, invite and session tokens, guessing limits.

Pure logic plus argon2; storage is `central.storage.portal_accounts`. Only failures count
against a name or an address, so a busy office signing in does not lock itself out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 10
MAX_PASSWORD = 200
_hasher = PasswordHasher()
# Verified against when the name is unknown, so an unknown name costs as long as a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class PasswordError(ValueError):
    """A password the portal will not take, in plain words."""


def new_token() -> str:
    """256 random bits, URL-safe: invite links, session cookies, CSRF tokens."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a token: a plain SHA-256 is enough for 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def check_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"choose a password of at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordError(f"a password is at most {MAX_PASSWORD} characters")
    if password.strip().lower() == username.strip().lower():
        raise PasswordError("the password must not be your user name")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """After `slow_after` failures in `window_s`, each try waits `base_wait_s` doubled per
    further failure (at most `max_wait_s`); `lock_after` failures lock the name until the
    window has passed. An address is locked after `lock_address_after` failures."""

    window_s: float = 900.0
    slow_after: int = 3
    base_wait_s: float = 2.0
    max_wait_s: float = 60.0
    lock_after: int = 10
    lock_address_after: int = 50

    def wait(self, name_failures: list[float], address_failures: list[float],
             now: float) -> tuple[float, str] | None:
        """Seconds to wait and why, or None when a try may go ahead. Failures are times
        within the window, oldest first."""
        if len(name_failures) >= self.lock_after:
            until = name_failures[-self.lock_after] + self.window_s
            return until - now, "locked"
        if len(address_failures) >= self.lock_address_after:
            until = address_failures[-self.lock_address_after] + self.window_s
            return until - now, "locked"
        extra = len(name_failures) - self.slow_after
        if extra >= 0:
            pause = min(self.base_wait_s * 2 ** extra, self.max_wait_s)
            left = name_failures[-1] + pause - now
            if left > 0:
                return left, "slowed"
        return None
