"""Accounts from central over MQTT rpc, with the offline cache when central is away."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from agent.accounts import Credit
from agent.api.payloads import Row
from agent.identity.directory import AuthResult
from agent.ledger import Ledger
from agent.money import format_money
from agent.sync.offline_cache import CachedAccount, OfflineCache
from agent.sync.rpc import CentralUnavailable, RpcClient
from contract.payloads import (
    AccountParams,
    AccountRequest,
    AccountResponse,
    AccountSummary,
    AuthParams,
    AuthRequest,
    LinkCardParams,
    LinkCardRequest,
)

log = logging.getLogger("pagetally.sync.directory")

_FAILURE = {"wrong_code": "bad-code", "unknown_card": "unknown-card", "locked": "locked",
            "card_taken": "card-taken", "wrong_pin": "bad-pin"}


class CentralDirectory:
    """AccountDirectory and Balances backed by central; `online` tells the API the truth."""

    def __init__(self, rpc: RpcClient, cache: OfflineCache, ledger: Ledger, *,
                 auth_timeout_s: float, offline_credit: int = 0) -> None:
        self.rpc = rpc
        self.cache = cache
        self.ledger = ledger
        self.auth_timeout_s = auth_timeout_s
        self.offline_credit = offline_credit
        self.answering = True  # false after central failed to answer, until we reconnect
        self._known: dict[str, CachedAccount] = {}

    @property
    def online(self) -> bool:
        """Connected to the broker and central answered the last request."""
        return self.rpc.link.connected.is_set() and self.answering

    async def _auth(self, kind: str, value: str, pin: str | None = None) -> AuthResult:
        params = AuthParams(code=value) if kind == "code" else AuthParams(card=value, pin=pin)
        if pin is not None:
            value = f"{value}\x00{pin}"  # the offline cache's key: card and PIN together
        try:
            response = await self.rpc.call(AuthRequest(params=params),
                                           timeout_s=self.auth_timeout_s)
        except CentralUnavailable as exc:
            self.answering = False
            log.info("central unavailable (%s): using the offline cache", exc)
            cached = self.cache.lookup(kind, value)
            if cached is None:
                what = {"code": "code", "card": "card"}.get(kind, "card and PIN")
                return AuthResult.denied("unavailable", f"Offline: this {what} is not known on "
                                         "this device yet. Try again when online.", offline=True)
            self._known[cached.user] = cached
            return AuthResult.success(cached.user, cached.display_name,
                                      await self._balance(cached.user), offline=True)
        self.answering = True
        if response.error is not None:
            failure = _FAILURE.get(response.error.code, "unavailable")
            return AuthResult.denied(failure, response.error.message)  # type: ignore[arg-type]
        return await self._signed_in(response.result, (kind, value))  # type: ignore[arg-type]

    async def _signed_in(self, summary: AccountSummary, *keys: tuple[str, str]) -> AuthResult:
        """Central said who this is: remember it for offline use under each key."""
        account = CachedAccount(summary.username, summary.display_name, summary.balance,
                                summary.restricted, summary.credit_limit, time.time())
        for kind, value in keys:
            self.cache.remember(kind, value, account)
        self._known[account.user] = account
        return AuthResult.success(account.user, account.display_name,
                                  await self._balance(account.user))

    async def by_code(self, code: str) -> AuthResult:
        return await self._auth("code", code)

    async def by_card(self, card: str) -> AuthResult:
        return await self._auth("card", card)

    async def by_card_and_pin(self, card: str, pin: str) -> AuthResult:
        """Central checks the PIN. Offline, only a card and PIN seen together before work:
        the cache keys them as one secret, so the card alone never opens the account."""
        return await self._auth("card+pin", card, pin)

    async def associate_card(self, code: str, card: str) -> AuthResult:
        """Card self-association at central: the code proves who links the card."""
        request = LinkCardRequest(params=LinkCardParams(code=code, card=card))
        try:
            response = await self.rpc.call(request, timeout_s=self.auth_timeout_s)
        except CentralUnavailable as exc:
            self.answering = False
            log.info("central unavailable (%s): cannot link a card offline", exc)
            return AuthResult.denied("unavailable", "Offline: a card can be linked only while "
                                     "the central ledger is reachable.", offline=True)
        self.answering = True
        if response.error is not None:
            failure = _FAILURE.get(response.error.code, "unavailable")
            return AuthResult.denied(failure, response.error.message)  # type: ignore[arg-type]
        return await self._signed_in(response.result, ("code", code),  # type: ignore[arg-type]
                                     ("card", card))

    def note_balances(self, balances: dict[str, int]) -> None:
        """Acks carry central's balance after our txns: keep the freshest, here and on disk."""
        for user, balance in balances.items():
            old = self._known.get(user)
            if old is not None:
                self._known[user] = replace(old, balance=balance)
        self.cache.update_balances(balances)

    async def _balance(self, user: str) -> int:
        return (await self.credit(user)).balance

    async def credit(self, user: str) -> Credit:
        """Central's last word plus what this device spent that central has not acked yet.

        Offline, a restricted user may also spend `offline_credit` (the offline policy).
        """
        known = self._known.get(user)
        if known is None:
            return Credit(0)
        pending = self.ledger.user_pending(user)
        limit = known.credit_limit + (0 if self.online else self.offline_credit)
        return Credit(known.balance + pending, known.restricted, limit)

    async def transactions(self, user: str) -> list[Row]:
        try:
            response = await self.rpc.call(AccountRequest(params=AccountParams(user=user)))
        except CentralUnavailable:
            self.answering = False
            return []
        if not isinstance(response, AccountResponse) or response.result is None:
            return []
        currency = self.ledger.currency
        return [Row(date=r.date.isoformat(), transacted_by=r.transacted_by, type=r.type,
                    system_note=r.system_note, comment=r.comment, amount=r.amount,
                    amount_text=format_money(r.amount, currency), balance=r.balance,
                    balance_text=format_money(r.balance, currency))
                for r in response.result.transactions]
