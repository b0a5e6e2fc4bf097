"""Answers to `rpc/req`: who a code or card belongs to, and a user's statement.

Failed sign-ins are counted here, at central, so a lockout holds across terminals and across
agent restarts: too many wrong codes at one terminal pauses code sign-in there, and the same
unknown code or card tried too often is locked everywhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from central.codes import CodeBook, normalise_card
from central.storage.base import Account, Ledger, TxnRecord
from contract import (
    AccountRequest,
    AccountResponse,
    AccountStatement,
    AccountSummary,
    AuthRequest,
    AuthResponse,
    ContractError,
    InvalidResponse,
    LinkCardRequest,
    LinkCardResponse,
    RpcError,
    RpcResponse,
    TransactionRow,
    decode_request,
)

log = logging.getLogger("pagetally.central.rpc")


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 10
    window_s: float = 15 * 60
    #: shared by the rpc threads of one instance: a terminal's sign-ins are checked one at a
    #: time, so its count of failures is read and written in order (two threads at once
    #: could each see "9 so far" and both try)
    _guards: tuple[threading.Lock, ...] = field(
        default_factory=lambda: tuple(threading.Lock() for _ in range(16)),
        compare=False, repr=False)

    def guard(self, terminal: str) -> threading.Lock:
        return self._guards[zlib.crc32(terminal.encode()) % len(self._guards)]


def summary(account: Account) -> AccountSummary:
    return AccountSummary(account.username, account.display_name, account.balance,
                          account.restricted, account.credit_limit, account.available,
                          list(account.groups))


def row(record: TxnRecord) -> TransactionRow:
    return TransactionRow(record.occurred_at, record.transacted_by, record.type,  # type: ignore[arg-type]
                          record.system_note, record.comment, record.amount,
                          record.balance_after)


class RpcHandler:
    """Stateless apart from the ledger: any central instance can answer any request."""

    def __init__(self, ledger: Ledger, codes: CodeBook, policy: LockoutPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self.codes = codes
        self.policy = policy or LockoutPolicy()
        self.clock = clock

    def handle(self, data: bytes, site: str, device: str) -> RpcResponse:
        try:
            request = decode_request(data)
        except ContractError as exc:
            log.warning("refused an rpc request from %s/%s: %s", site, device, exc)
            return InvalidResponse(RpcError("bad_request", str(exc)))
        if isinstance(request, AuthRequest | LinkCardRequest):
            with self.policy.guard(f"{site}/{device}"):  # failures counted in order
                if isinstance(request, LinkCardRequest):
                    return self._link_card(request, site, device)
                if request.params.code is not None:
                    return self._auth_code(request.params.code, site, device)
                return self._auth_card(request.params.card or "", request.params.pin)
        return self._account(request)

    def _retry_after(self, keys: list[str]) -> int | None:
        now = self.clock()
        for key in keys:
            times = self.ledger.auth_failures(key, now - self.policy.window_s)
            if len(times) >= self.policy.max_failures:
                unlock = times[-self.policy.max_failures] + self.policy.window_s
                return max(1, int(unlock - now + 0.999))
        return None

    def _fail(self, keys: list[str]) -> None:
        self.ledger.record_auth_failure(keys, self.clock(), self.policy.window_s)

    def _auth_code(self, code: str, site: str, device: str) -> AuthResponse:
        tag = self.codes.lookup_tag(code)
        keys = [f"code-at:{site}/{device}", f"code:{tag}"]
        wait = self._retry_after(keys)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            log.warning("code sign-in at %s/%s refused: locked for %d s", site, device, wait)
            return AuthResponse(error=RpcError(
                "locked", f"Too many wrong codes. Code sign-in is paused for about {minutes}"
                " minute(s); a card still works.", retry_after=wait))
        found = self.ledger.code_hash_for_tag(tag)
        account = None
        if found and self.codes.verify(found[1], code):
            account = self.ledger.get_account(found[0])
        if account is None:
            self._fail(keys)
            log.info("wrong access code at %s/%s", site, device)
            return AuthResponse(error=RpcError(
                "wrong_code", "That code is not right. Check it and try again."))
        return AuthResponse(result=summary(account))

    def _link_card(self, request: LinkCardRequest, site: str, device: str) -> LinkCardResponse:
        """An unknown card followed by the user's code: the code is checked with the same
        lockout as a code sign-in, then the card joins that account (as in Hive and SafeQ)."""
        params = request.params
        try:
            card = normalise_card(params.card)
        except ValueError as exc:
            return LinkCardResponse(error=RpcError("bad_request", str(exc)))
        checked = self._auth_code(params.code, site, device)
        if checked.error is not None:
            return LinkCardResponse(error=checked.error)
        user = checked.result.username  # type: ignore[union-attr]
        owner = self.ledger.account_for_card(card)
        if owner is not None and owner.username != user:
            log.warning("card link refused at %s/%s: the card belongs to another account",
                        site, device)
            return LinkCardResponse(error=RpcError(
                "card_taken", "This card belongs to another account. Ask the help desk."))
        if owner is None:
            self.ledger.add_card(user, card)
            log.info("card ...%s linked to %s at %s/%s", card[-4:], user, site, device)
        return LinkCardResponse(result=summary(self.ledger.get_account(user)))  # type: ignore[arg-type]

    def _auth_card(self, raw: str, pin: str | None = None) -> AuthResponse:
        try:
            card = normalise_card(raw)
        except ValueError as exc:
            return AuthResponse(error=RpcError("bad_request", str(exc)))
        keys = [f"card:{self.codes.card_tag(card)}"]
        wait = self._retry_after(keys)
        if wait is not None:
            return AuthResponse(error=RpcError(
                "locked", "This card was refused too often and is paused for about"
                f" {max(1, round(wait / 60))} minute(s).", retry_after=wait))
        account = self.ledger.account_for_card(card)
        if account is None:
            self._fail(keys)
            return AuthResponse(error=RpcError(
                "unknown_card", "This card is not registered. Ask the help desk to add it."))
        if pin is not None:
            return self._check_pin(account, card, pin)
        return AuthResponse(result=summary(account))

    def _check_pin(self, account: Account, card: str, pin: str) -> AuthResponse:
        """Card + PIN: wrong PINs for a card are counted at central, across terminals."""
        keys = [f"pin:{self.codes.card_tag(card)}"]
        wait = self._retry_after(keys)
        if wait is not None:
            return AuthResponse(error=RpcError(
                "locked", "Too many wrong PINs for this card. It is paused for about"
                f" {max(1, round(wait / 60))} minute(s).", retry_after=wait))
        stored = self.ledger.pin_hash(account.username)
        if stored is None:
            return AuthResponse(error=RpcError(
                "wrong_pin", "No PIN is set for this card. Ask the help desk to set one."))
        if not self.codes.verify_pin(stored, pin):
            self._fail(keys)
            log.info("wrong PIN for card ...%s", card[-4:])
            return AuthResponse(error=RpcError("wrong_pin", "That PIN is not right."))
        return AuthResponse(result=summary(account))

    def _account(self, request: AccountRequest) -> AccountResponse:
        params = request.params
        account = self.ledger.get_account(params.user)
        if account is None:
            return AccountResponse(error=RpcError("not_found",
                                                  f"There is no user {params.user!r}."))
        since = dt.datetime.fromtimestamp(self.clock(), dt.UTC) - dt.timedelta(days=params.days)
        records = self.ledger.transactions(params.user, since=since, limit=params.limit)
        return AccountResponse(result=AccountStatement(summary(account),
                                                       [row(r) for r in records]))
