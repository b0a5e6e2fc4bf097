"""Access codes and card numbers: never stored in plain text, looked up without leaking them.

Each code gets two keyed digests made with a server secret kept in a file outside the
database (and the repo): an HMAC-SHA256 *lookup tag* (unique index, finds the row in O(1))
and an argon2id hash of a second HMAC (the *pepper*), verified on every sign-in. A stolen
database alone therefore does not let anyone brute-force the 10^6 six-digit codes offline.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SECRET_BYTES = 32
CODE_DIGITS = 6


class CodeBook:
    """Turns codes into lookup tags and argon2 hashes with one server secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the server secret must be at least 16 bytes")
        self._secret = secret
        self._hasher = PasswordHasher()

    @classmethod
    def from_file(cls, path: Path) -> CodeBook:
        """Load the secret, or create it (mode 0600) on first run."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(SECRET_BYTES) + "\n")
        return cls(bytes.fromhex(path.read_text().strip()))

    def _mac(self, label: str, value: str) -> str:
        return hmac.new(self._secret, f"{label}\0{value}".encode(), hashlib.sha256).hexdigest()

    def lookup_tag(self, code: str) -> str:
        return self._mac("code-lookup", code)

    def card_tag(self, card_number: str) -> str:
        """A stable key for lockout records that does not spell the card number out."""
        return self._mac("card-lockout", card_number)

    def hash(self, code: str) -> str:
        return self._hasher.hash(self._mac("code-hash", code))

    def verify(self, code_hash: str, code: str) -> bool:
        try:
            return self._hasher.verify(code_hash, self._mac("code-hash", code))
        except (VerificationError, InvalidHashError):
            return False


    def hash_pin(self, pin: str) -> str:
        """A PIN is hashed like a code, under its own label, so neither stands for the other."""
        return self._hasher.hash(self._mac("pin-hash", pin))

    def verify_pin(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._hasher.verify(pin_hash, self._mac("pin-hash", pin))
        except (VerificationError, InvalidHashError):
            return False


def check_pin(pin: str) -> str:
    if not re.fullmatch(r"\d{4,8}", pin):
        raise ValueError("a PIN is 4 to 8 digits")
    return pin


def generate_code(digits: int = CODE_DIGITS) -> str:
    """A random numeric code like PaperCut Hive's (6 digits by default, may start with 0)."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def check_code(code: str) -> str:
    if not re.fullmatch(r"\d{4,12}", code):
        raise ValueError("an access code is 4 to 12 digits")
    return code


def normalise_card(raw: str) -> str:
    """One spelling per card: separators dropped, hex upper-cased, leading zeros of decimals cut.

    The agent applies the reader's conversions (hex2dec, reverse-bytes, ...) first; this only
    makes "00 12-34" and "1234" the same card.
    """
    text = re.sub(r"[\s:\-]", "", raw).upper()
    if not text or not text.isalnum() or len(text) > 128:
        raise ValueError(f"{raw!r} is not a card number: use letters and digits only")
    return (text.lstrip("0") or "0") if text.isdigit() else text
