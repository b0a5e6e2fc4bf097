"""The login service: card, access code, card + PIN, and linking an unknown card.

    card  → reader's conversions → directory.by_card → session (or ask for the PIN,
            or, for an unknown card, ask for the access code to link it)
    code  → policy → rate limit → directory.by_code (or associate_card) → session
    PIN   → rate limit (keyed by the card) → directory.by_card_and_pin → session

Codes and PINs are passed to the directory and dropped: they are never logged or stored,
and messages never echo them. Card numbers appear in logs masked to the last four.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from agent.identity.conversions import Chain, ConversionError
from agent.identity.directory import AccountDirectory, AuthResult
from agent.identity.policy import CodePolicy
from agent.identity.ratelimit import RateLimiter
from agent.identity.session import Method, Session, SessionManager
from drivers.readers.common import mask

log = logging.getLogger("pagetally.identity.login")

Needs = Literal["pin", "link-code"]


@dataclass(frozen=True)
class LoginOutcome:
    """What the panel shows after one step of a login."""

    ok: bool
    message: str
    session: Session | None = None
    needs: Needs | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class _Pending:
    needs: Needs
    card: str
    expires: float


class LoginService:
    def __init__(self, device: str, directory: AccountDirectory, sessions: SessionManager, *,
                 policy: CodePolicy | None = None, limiter: RateLimiter | None = None,
                 chains: Mapping[str, Chain] | None = None, card_pin: bool = False,
                 allow_linking: bool = True, pending_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.directory = directory
        self.sessions = sessions
        self.policy = policy or CodePolicy()
        self.limiter = limiter or RateLimiter(clock=clock)
        self.chains = dict(chains or {})
        self.card_pin = card_pin
        self.allow_linking = allow_linking
        self.pending_s = pending_s
        self.clock = clock
        self._pending: _Pending | None = None

    def cancel(self) -> None:
        """The user walked away from a PIN or link prompt."""
        self._pending = None

    def _take_pending(self, needs: Needs) -> str | None:
        pending, self._pending = self._pending, None
        if pending is None or pending.needs != needs or pending.expires < self.clock():
            return None
        return pending.card

    def _ask(self, needs: Needs, card: str, message: str) -> LoginOutcome:
        self._pending = _Pending(needs, card, self.clock() + self.pending_s)
        return LoginOutcome(False, message, needs=needs)

    def _refuse(self, message: str, link_card: str | None,
                wait_s: float | None = None) -> LoginOutcome:
        """A failed code step; a pending link prompt stays open so the user can retry."""
        if link_card is None:
            return LoginOutcome(False, message, retry_after_s=wait_s)
        self._pending = _Pending("link-code", link_card, self.clock() + self.pending_s)
        return LoginOutcome(False, message, needs="link-code", retry_after_s=wait_s)

    def _login(self, result: AuthResult, method: Method) -> LoginOutcome:
        session = self.sessions.start(result, method)
        return LoginOutcome(True, f"Welcome, {session.display_name}.", session=session)

    async def _ask_directory(self, call: Awaitable[AuthResult]) -> AuthResult:
        try:
            return await call
        except (OSError, TimeoutError) as exc:
            log.warning("the account directory did not answer on device %s: %s", self.device,
                        type(exc).__name__)
            return AuthResult.denied("unavailable", "Accounts cannot be checked right now; "
                                     "please try again shortly.")

    async def card(self, reader: str, raw: str) -> LoginOutcome:
        """A card read by `reader`, as the reader driver produced it."""
        self._pending = None
        try:
            chain = self.chains.get(reader)
            card = chain.apply(raw) if chain is not None else raw
        except ConversionError as exc:
            log.warning("card from reader %s on device %s could not be converted: %s",
                        reader, self.device, exc)
            return LoginOutcome(False, "This card could not be read. Please try again.")
        result = await self._ask_directory(self.directory.by_card(card))
        if result.ok:
            current = self.sessions.current
            if self.card_pin:
                return self._ask("pin", card, "Enter your PIN.")
            if current is not None and current.user == result.user:
                self.sessions.touch()
                return LoginOutcome(True, f"Welcome, {current.display_name}.", session=current)
            return self._login(result, "card")
        if result.failure == "unknown-card" and self.allow_linking:
            log.info("unknown card %s on device %s: offering to link it", mask(card),
                     self.device)
            return self._ask("link-code", card, "This card is not known. Enter your access "
                             "code to link this card.")
        log.warning("card login failed on device %s for card %s: %s", self.device, mask(card),
                    result.reason)
        return LoginOutcome(False, result.reason or "This card cannot be used here.")

    async def code(self, code: str) -> LoginOutcome:
        """An access code typed on the panel (also the answer to a link prompt)."""
        link_card = self._take_pending("link-code")
        problem = self.policy.problem(code)
        if problem is not None:
            return self._refuse(problem, link_card)
        key = self.limiter.key(code)
        decision = self.limiter.check(self.device, key)
        if not decision.allowed:
            log.warning("code login refused on device %s: too many attempts, %.0f s to wait",
                        self.device, decision.wait_s)
            return self._refuse(decision.message, link_card, decision.wait_s)
        if link_card is not None:
            result = await self._ask_directory(self.directory.associate_card(code, link_card))
        else:
            result = await self._ask_directory(self.directory.by_code(code))
        if result.failure != "unavailable":
            self.limiter.record(self.device, key, result.ok or result.failure == "card-taken")
        if not result.ok:
            log.warning("code login failed for device %s: %s", self.device, result.reason)
            keep = link_card if result.failure in ("bad-code", "unavailable") else None
            return self._refuse(result.reason or "This access code is not valid.", keep)
        if link_card is not None:
            log.info("card %s linked to %s on device %s", mask(link_card), result.user,
                     self.device)
        return self._login(result, "code")

    async def pin(self, pin: str) -> LoginOutcome:
        """The PIN after a card swipe, when the device asks for card + PIN."""
        card = self._take_pending("pin")
        if card is None:
            return LoginOutcome(False, "Please present your card first.")
        key = self.limiter.key("card:" + card)
        decision = self.limiter.check(self.device, key)
        if not decision.allowed:
            log.warning("PIN entry refused on device %s: too many attempts, %.0f s to wait",
                        self.device, decision.wait_s)
            return LoginOutcome(False, decision.message, retry_after_s=decision.wait_s)
        result = await self._ask_directory(self.directory.by_card_and_pin(card, pin))
        if result.failure != "unavailable":
            self.limiter.record(self.device, key, result.ok)
        if not result.ok:
            log.warning("PIN login failed for device %s, card %s: %s", self.device,
                        mask(card), result.reason)
            return LoginOutcome(False, result.reason or "The PIN is not correct.")
        return self._login(result, "card+pin")
