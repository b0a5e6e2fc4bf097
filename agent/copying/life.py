"""Copy sessions on the session life: start, follow, settle once, whatever counts pages.

Copy sessions live the life every metering session lives (agent/session/life.py: follow,
settle once, settle at the next start what an earlier run left open); this is the copy
session's side of it: the credit as limit, one session at a time, Stop, logout, idle and
the credit where the evidence does not enforce it. What counts the pages differs
(`evidence.py`: `board_evidence.py`, `counter_evidence.py`). The session is in the ledger
before the copier may copy, so a session an earlier run left open settles exactly once at
the next start, from what the ledger holds and the evidence still counts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.accounts import Balances
from agent.api.methods import COPY_PROGRESS, Notify
from agent.api.payloads import CopyProgress, CopyResult
from agent.config_models import CopierConfig
from agent.copying.evidence import CopyEvidence, Final, Tracker
from agent.copying.session import (
    COPY_KINDS,
    CopyUnavailable,
    charge_for,
    copy_limit,
    price_of,
)
from agent.copying.settling import CopySettler
from agent.ledger import Ledger
from agent.ledger.models import CopyRow
from agent.metering.probe import DeviceProbe
from agent.money import format_money
from agent.session.life import SessionLife

READY_WAIT_S = 5.0
"""Longest wait at copy.start for the sessions of an earlier run to settle."""
SHUTDOWN_S = 10.0


@dataclass
class Active:
    tracker: Tracker
    user: str
    limit: int
    last_change: float
    done: asyncio.Future[CopyResult]
    pages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COPY_KINDS, 0))
    stop_reason: str | None = None


@dataclass(frozen=True)
class Followed:
    """How the session ended: its row, the evidence's own final counts, and why."""

    row: CopyRow
    final: Final
    reason: str


class CopySessionLife:
    """The copy sessions of one copier; to the session life, their evidence. A session
    is an `Active` one followed now, or the ledger row of one an earlier run left open."""

    def __init__(self, *, evidence: CopyEvidence, config: CopierConfig, printer: str,
                 ledger: Ledger, probe: DeviceProbe, balances: Balances, currency: str,
                 notify: Notify, touch: Callable[[], None]) -> None:
        self.evidence = evidence
        self.config = config
        self.ledger = ledger
        self.balances = balances
        self.currency = currency
        self.notify = notify
        self.touch = touch
        self.prices = config.prices.table()
        self.settler = CopySettler(ledger=ledger, probe=probe, printer=printer,
                                   currency=currency, notify=notify,
                                   wait_s=config.settle_wait_s)
        self.active: Active | None = None
        self.life = SessionLife[Active | CopyRow, Followed, CopyResult,
                                CopyProgress | CopyResult](
            self, notify=notify, progress=COPY_PROGRESS)
        self._starting = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._recovered = asyncio.Event()
        """Set once sessions an earlier run left open are settled: settling one may turn
        the copier off, so no new session may start before."""

    @property
    def available(self) -> bool:
        return self.evidence.available

    @property
    def enforced(self) -> bool:
        """Only a copier this terminal tracks can be enforced (docs/api.md)."""
        return self.evidence.available and self.evidence.enforced

    # ----- life --------------------------------------------------------------------

    async def run(self) -> None:
        """Settle sessions an earlier run left open: the evidence is cumulative, so they
        settle now as they would have then."""
        if not self.evidence.available:
            return
        await self.evidence.connect()
        async with self._starting:
            await self.life.recover()
            self._recovered.set()

    async def close(self) -> None:
        """A session running at shutdown is stopped and settled first."""
        if self.active is not None:
            with contextlib.suppress(TimeoutError, *self.evidence.faults):
                async with asyncio.timeout(SHUTDOWN_S):
                    await self.stop(None, "shutdown")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.evidence.close()

    # ----- API ---------------------------------------------------------------------

    async def start(self, user: str) -> CopyProgress:
        if not self.evidence.available:
            raise CopyUnavailable(self.evidence.unavailable)
        try:
            await asyncio.wait_for(self._recovered.wait(), READY_WAIT_S)
        except TimeoutError:
            raise CopyUnavailable(self.evidence.not_ready) from None
        async with self._starting:
            if self.active is not None:
                raise CopyUnavailable("A copy session is already running")
            credit = await self.balances.credit(user)
            limit = copy_limit(credit.available, self.prices.values())
            tracker = await self.evidence.open(user, limit)
            loop = asyncio.get_running_loop()
            active = Active(tracker, user, limit, loop.time(), loop.create_future())
            try:
                await tracker.switch_on(limit)
            except CopyUnavailable:  # never on: it settles now, at no pages
                row = self.ledger.copy_session(tracker.key)
                await self._settle(row, await tracker.final(row), "board")
                raise
            self.active = active
            self._task = asyncio.create_task(self._session(active), name="copy-session")
            view = self._view(active)
            self.notify(COPY_PROGRESS, view)
            return view

    async def stop(self, user: str | None, reason: str = "stop") -> CopyResult | None:
        """End the running session (of `user`, unless None) and return its result."""
        active = self.active
        if active is None or (user is not None and active.user != user):
            if user is None:
                return None
            raise CopyUnavailable("No copy session is running")
        self.end_soon(reason)
        return await asyncio.shield(active.done)

    def end_soon(self, reason: str) -> None:
        """The user logged out (or was logged out): end their copy session, not waiting."""
        active = self.active
        if active is not None and active.stop_reason is None:
            active.stop_reason = reason
            active.tracker.wake()

    def status(self) -> CopyProgress | None:
        return None if self.active is None else self._view(self.active)

    def job_settled(self) -> None:
        """Metering settled a print job (its `job.result`): a settle waiting for it goes
        on, and the pages shown may change."""
        self.evidence.job_settled()
        self.settler.job_settled()

    # ----- the session, as the session life asks ------------------------------------

    def left_open(self) -> list[str]:
        return [row.session_key for row in self.ledger.open_copies(self.evidence.source)]

    async def opened(self, key: str) -> CopyRow:
        """Only sessions an earlier run left open are opened by the life: `start` opens
        the others (they start on the panel's request)."""
        return self.ledger.copy_session(key)

    async def follow(self, session: Active | CopyRow,
                     shown: Callable[[CopyProgress], None]) -> Followed:
        if isinstance(session, CopyRow):  # left open: the copier is off, nobody copies
            return Followed(session, await self.evidence.final(session), "restart")
        reason = await self._follow(session, shown)
        row = self.ledger.copy_session(session.tracker.key)
        return Followed(row, await session.tracker.final(row), reason)

    async def settle(self, session: Active | CopyRow, followed: Followed) -> CopyResult:
        return await self._settle(followed.row, followed.final, followed.reason)

    async def _session(self, active: Active) -> None:
        try:
            active.done.set_result(await self.life.finish(active))
        except BaseException as exc:
            if not active.done.done():
                active.done.set_exception(exc)
            raise
        finally:
            self.active = None

    async def _follow(self, active: Active, shown: Callable[[CopyProgress], None]) -> str:
        """Show each page; returns why the session ended: Stop or logout, the copier off by
        itself, the credit used up (where the evidence does not enforce it), or idle."""
        loop = asyncio.get_running_loop()
        with active.tracker.following():
            while active.stop_reason is None:
                seen = await active.tracker.next()
                if seen.pages is not None and seen.pages != active.pages:
                    active.pages, active.last_change = seen.pages, loop.time()
                    self.touch()
                    shown(self._view(active))
                if seen.ended is not None:
                    return seen.ended
                if active.stop_reason is not None:
                    break
                if not self.evidence.enforced \
                        and price_of(active.pages, self.prices) >= active.limit:
                    return "credit"
                if loop.time() - active.last_change > self.config.idle_timeout_s:
                    return "idle"
        return active.stop_reason

    def _view(self, active: Active) -> CopyProgress:
        cost = price_of(active.pages, self.prices)
        return CopyProgress(session_key=active.tracker.key, user=active.user,
                            pages=sum(active.pages.values()),
                            pages_by_kind={k: n for k, n in active.pages.items() if n},
                            cost=cost, cost_text=format_money(cost, self.currency),
                            limit=active.limit, enforced=self.evidence.enforced)

    # ----- settling ----------------------------------------------------------------

    async def _settle(self, row: CopyRow, final: Final, reason: str) -> CopyResult:
        """Charge once: the evidence judges, the life prices and records."""
        after, prints = await self.settler.evidence(row)
        judged = self.evidence.judge(row, final, after, prints)
        return self.settler.record(
            row, reason=reason, decision=judged.decision, by_kind=judged.by_kind,
            cost=charge_for(judged.decision.pages, judged.by_kind, self.prices),
            evidence=judged.counts, stored=judged.stored)
