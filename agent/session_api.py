"""session.* methods: login by code or card, logout, and the auto-logout countdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from agent.accounts import Balances
from agent.api.methods import LOGIN_REFUSED, SESSION, TIMEOUT, Notify
from agent.api.params import LoginParams, NoParams
from agent.api.payloads import Countdown, LoggedOut, LoginRefused, Ok, Session, Touched
from agent.api.protocol import ApiError
from agent.identity.conversions import Chain
from agent.identity.directory import AccountDirectory
from agent.identity.login import LoginOutcome, LoginService
from agent.identity.policy import CodePolicy
from agent.identity.ratelimit import RateLimiter
from agent.identity.session import EndReason, SessionManager
from agent.identity.session import Session as UserSession
from agent.money import format_money

COUNTDOWN_S = 10


class SessionApi:
    def __init__(self, *, device: str, directory: AccountDirectory, balances: Balances,
                 currency: str, idle_timeout_s: float, policy: CodePolicy,
                 limiter: RateLimiter, notify: Notify, chains: Mapping[str, Chain],
                 card_pin: bool = False, online: Callable[[], bool] = lambda: True) -> None:
        self.balances = balances
        self.currency = currency
        self.notify = notify
        self.online = online
        self.manager = SessionManager(device, idle_timeout_s, on_end=self._ended)
        self.login_service = LoginService(device, directory, self.manager, policy=policy,
                                          limiter=limiter, chains=chains, card_pin=card_pin)
        self._touched = time.monotonic()
        self._ticker: asyncio.Task[None] | None = None
        self.on_ended: Callable[[str], None] | None = None
        """Told the user whose session ended (logout, timeout): their copying ends too."""

    def user(self) -> str:
        """The logged-in user; every call on their behalf counts as activity."""
        session = self.manager.current
        if session is None:
            raise ApiError("not-logged-in", "Please log in first")
        self._touch()
        return session.user

    def touch_now(self) -> None:
        """Activity not through the API (pages coming out of the copier) keeps the login."""
        if self.manager.current is not None:
            self._touch()

    def _touch(self) -> None:
        self._touched = time.monotonic()
        self.manager.touch()

    async def _session_view(self, session: UserSession) -> Session:
        credit = await self.balances.credit(session.user)
        left = self.manager.idle_timeout_s - (time.monotonic() - self._touched)
        return Session(user=session.user, display_name=session.display_name,
                       balance=credit.balance,
                       balance_text=format_money(credit.balance, self.currency),
                       offline=session.offline, method=session.method,
                       expires_in=max(0, round(left)))

    async def _outcome(self, outcome: LoginOutcome) -> Session:
        if outcome.ok and outcome.session is not None:
            self._touched = time.monotonic()
            self._start_ticker()
            view = await self._session_view(outcome.session)
            self.notify(SESSION, view)
            return view
        if outcome.retry_after_s is not None:
            raise ApiError("locked", outcome.message,
                           {"retry_after": round(outcome.retry_after_s)})
        if outcome.needs is not None:
            raise ApiError(f"needs-{outcome.needs}", outcome.message)
        raise ApiError("bad-code", outcome.message)

    async def login(self, params: LoginParams) -> Session:
        """Exactly one of code, pin or card is set (LoginParams checks it)."""
        if params.code is not None:
            return await self._outcome(await self.login_service.code(params.code))
        if params.pin is not None:
            return await self._outcome(await self.login_service.pin(params.pin))
        assert params.card is not None
        return await self._outcome(await self.login_service.card(params.reader, params.card))

    async def card_swiped(self, reader: str, raw: str) -> None:
        """A reader driver produced a card: log in, and tell the panel what happened."""
        try:
            await self._outcome(await self.login_service.card(reader, raw))
        except ApiError as exc:
            self.notify(LOGIN_REFUSED, LoginRefused(kind=exc.kind, message=exc.message))

    async def logout(self, params: NoParams) -> Ok:
        self.manager.end("logout")
        return Ok()

    async def status(self, params: NoParams) -> Session | None:
        session = self.manager.current
        return None if session is None else await self._session_view(session)

    async def touch(self, params: NoParams) -> Touched:
        self.user()
        return Touched(expires_in=round(self.manager.idle_timeout_s))

    def _ended(self, session: UserSession, reason: EndReason) -> None:
        if self.on_ended is not None:
            self.on_ended(session.user)
        self.notify(SESSION, LoggedOut(reason=reason, previous=session.user))

    def _start_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._countdown(), name="logout-countdown")

    async def _countdown(self) -> None:
        """`timeout` notifications each second during the last COUNTDOWN_S seconds."""
        while self.manager.current is not None:
            left = self.manager.idle_timeout_s - (time.monotonic() - self._touched)
            if 0 < left <= COUNTDOWN_S:
                self.notify(TIMEOUT, Countdown(seconds_left=max(1, round(left))))
            await asyncio.sleep(1.0 if left <= COUNTDOWN_S + 1 else left - COUNTDOWN_S)

    def close(self) -> None:
        self.manager.end("logout")
        if self._ticker is not None:
            self._ticker.cancel()
