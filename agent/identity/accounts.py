"""`LocalAccounts`: an AccountDirectory over a TOML file, for stand-alone devices and tests.

    [users.alice]
    display_name = "Alice Example"
    balance = 1250                       # integer minor units
    restricted = true                    # false: may spend without limit
    credit_limit = 0                     # minor units allowed below zero when restricted
    access_code_hash = "$argon2id$..."   # from hash_secret(); never the code itself
    cards = ["12345678"]                 # as they come out of the reader's conversions
    pin_hash = "$argon2id$..."           # optional, for card + PIN

Linking a card rewrites the file atomically (temporary file, fsync, rename), keeping the
admin's comments and layout. The file is re-read when it changes on disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import argon2
import msgspec
import tomlkit
from argon2.exceptions import InvalidHashError, VerificationError

from agent.accounts import Credit
from agent.identity.directory import AuthResult
from drivers.readers.common import mask

log = logging.getLogger("pagetally.identity.accounts")


class AccountsError(Exception):
    """The accounts file cannot be used; the message says why in plain words."""


class Account(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    display_name: str = ""
    balance: int = 0
    restricted: bool = True
    credit_limit: int = 0
    access_code_hash: str | None = None
    cards: list[str] = msgspec.field(default_factory=list)
    pin_hash: str | None = None


class _File(msgspec.Struct, forbid_unknown_fields=True):
    users: dict[str, Account] = msgspec.field(default_factory=dict)


def device_hasher() -> argon2.PasswordHasher:
    """argon2id at OWASP's minimum (19 MiB, t=2, p=1), not the library's 64 MiB default:
    a Pi verifies codes on the same core that meters jobs, and 64 MiB doubled the agent's
    peak memory at every login. Hashes made with other settings still verify."""
    return argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_secret(secret: str, hasher: argon2.PasswordHasher | None = None) -> str:
    """The argon2id hash to put in the accounts file for an access code or PIN."""
    return (hasher or device_hasher()).hash(secret)


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple[int, int, int]
    users: dict[str, Account]
    cards: dict[str, str]  # card → user


def _parse(path: Path) -> _Snapshot:
    try:
        st = path.stat()
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccountsError(f"cannot read accounts file {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountsError(f"accounts file {path} is not valid TOML: {exc}") from exc
    try:
        users = msgspec.convert(raw, _File).users
    except msgspec.ValidationError as exc:
        raise AccountsError(f"accounts file {path}: {exc}") from exc
    cards: dict[str, str] = {}
    for uid, account in users.items():
        if account.credit_limit < 0:
            raise AccountsError(f"accounts file {path}: users.{uid}.credit_limit must be 0 or "
                                f"more, got {account.credit_limit}")
        for field in ("access_code_hash", "pin_hash"):
            value = getattr(account, field)
            if value is not None:
                try:
                    argon2.extract_parameters(value)
                except InvalidHashError as exc:
                    raise AccountsError(f"accounts file {path}: users.{uid}.{field} is not an "
                                        "argon2 hash (make one with hash_secret)") from exc
        for card in account.cards:
            if cards.setdefault(card, uid) != uid:
                raise AccountsError(f"accounts file {path}: card {mask(card)} is listed for "
                                    f"both {cards[card]} and {uid}")
    return _Snapshot((st.st_mtime_ns, st.st_size, st.st_ino), users, cards)


def _write_atomic(path: Path, text: str) -> None:
    """Replace the file in one step: a crash leaves the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class LocalAccounts:
    """Accounts from a TOML file; code and PIN checks run argon2 off the event loop."""

    def __init__(self, path: Path, hasher: argon2.PasswordHasher | None = None) -> None:
        self.path = path
        self._hasher = hasher or device_hasher()
        self._snap = _parse(path)
        self._lock = asyncio.Lock()

    def _current(self) -> _Snapshot:
        """Re-read the file if it changed; keep the last good copy if the new one is broken."""
        try:
            st = self.path.stat()
        except OSError as exc:
            log.warning("cannot check accounts file %s: %s; using the copy in memory",
                        self.path, exc.strerror)
            return self._snap
        if (st.st_mtime_ns, st.st_size, st.st_ino) != self._snap.stamp:
            try:
                self._snap = _parse(self.path)
                log.info("re-read accounts file %s: %d users", self.path,
                         len(self._snap.users))
            except AccountsError as exc:
                log.warning("%s; still using the previous copy", exc)
        return self._snap

    def _matches(self, stored: str | None, secret: str) -> bool:
        if stored is None:
            return False
        try:
            return self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False

    def _find_by_code(self, snap: _Snapshot, code: str) -> str | None:
        for uid, account in snap.users.items():
            if self._matches(account.access_code_hash, code):
                return uid
        return None

    def _success(self, snap: _Snapshot, uid: str) -> AuthResult:
        account = snap.users[uid]
        return AuthResult.success(uid, account.display_name or uid, account.balance)

    def credit(self, user: str) -> Credit:
        """Opening balance and spending rule from the file; an unknown user may spend nothing."""
        account = self._current().users.get(user)
        if account is None:
            return Credit(0, True, 0)
        return Credit(account.balance, account.restricted, account.credit_limit)

    async def by_code(self, code: str) -> AuthResult:
        snap = self._current()
        uid = await asyncio.to_thread(self._find_by_code, snap, code)
        if uid is None:
            return AuthResult.denied("bad-code", "This access code is not valid.")
        return self._success(snap, uid)

    async def by_card(self, card: str) -> AuthResult:
        snap = self._current()
        uid = snap.cards.get(card)
        if uid is None:
            return AuthResult.denied("unknown-card", "This card is not linked to an account.")
        return self._success(snap, uid)

    async def by_card_and_pin(self, card: str, pin: str) -> AuthResult:
        snap = self._current()
        uid = snap.cards.get(card)
        if uid is None:
            return AuthResult.denied("unknown-card", "This card is not linked to an account.")
        stored = snap.users[uid].pin_hash
        if not await asyncio.to_thread(self._matches, stored, pin):
            return AuthResult.denied("bad-pin", "The PIN is not correct for this card.")
        return self._success(snap, uid)

    async def associate_card(self, code: str, card: str) -> AuthResult:
        async with self._lock:
            snap = self._current()
            uid = await asyncio.to_thread(self._find_by_code, snap, code)
            if uid is None:
                return AuthResult.denied("bad-code", "This access code is not valid.")
            owner = snap.cards.get(card)
            if owner not in (None, uid):
                return AuthResult.denied("card-taken", "This card belongs to another account.")
            if owner is None:
                try:
                    await asyncio.to_thread(self._add_card, uid, card)
                except (OSError, AccountsError) as exc:
                    log.error("could not save card %s for %s in %s: %s", mask(card), uid,
                              self.path, exc)
                    return AuthResult.denied("unavailable",
                                             "The card could not be saved; please try again.")
                log.info("linked card %s to account %s", mask(card), uid)
            return self._success(self._snap, uid)

    def _add_card(self, uid: str, card: str) -> None:
        doc = tomlkit.parse(self.path.read_text(encoding="utf-8"))
        table = doc["users"][uid]
        if "cards" in table:
            table["cards"].append(card)
        else:
            table["cards"] = [card]
        _write_atomic(self.path, tomlkit.dumps(doc))
        self._snap = _parse(self.path)
