"""A copy session without a board: metered from the device's own counters, not enforced.

For sites whose copier has no interface board ([copier] tracking = "counters"). The
terminal cannot switch the copier on or off, so a session only watches: the device's
counters at the start are written to the ledger first (a restart settles the session once
from them), the one printer poller's readings show pages live, and the end charges what
the vendor's copy counters and the page counter less the prints of the window show
(`counted_rules.py`). It ends on Stop, logout, idle, or once the credit is used up; the
copier itself keeps copying, which the panel says plainly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.accounts import Balances
from agent.api.methods import COPY_PROGRESS, Notify
from agent.api.payloads import CopyProgress, CopyResult
from agent.config_models import CopierConfig
from agent.copying.counted_rules import (
    copy_counter_names,
    copy_counter_pages,
    decide_counted,
    live_pages,
)
from agent.copying.session import (
    COPY_KINDS,
    CopyDenied,
    CopyUnavailable,
    copy_limit,
    device_copy_pages,
    price_of,
    prints_in_window,
)
from agent.copying.settling import CopyEvidence, CopySettler
from agent.ledger import Ledger
from agent.ledger.models import CopyRow
from agent.metering.decide import CounterReading
from agent.metering.poller import PrinterPoller
from agent.metering.probe import DeviceProbe, Reading
from agent.money import format_money

log = logging.getLogger("pagetally.copy")

OPEN_END = "9999"
"""A window end after any ledger time (they compare as text): the session is still on."""
WAKE_S = 1.0
READY_WAIT_S = 5.0
"""Longest wait for a reading before the idle timeout and Stop are looked at again."""


@dataclass
class Watched:
    key: str
    user: str
    limit: int
    started_at: str
    start: Reading
    last_change: float
    pages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COPY_KINDS, 0))
    stop_reason: str | None = None
    seen: object = None
    """The counters and settled-job count last shown: an unchanged reading is skipped."""
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Future[CopyResult] | None = None


class CountedRunner:
    available = True
    enforced = False

    def __init__(self, *, config: CopierConfig, printer: str, ledger: Ledger,
                 probe: DeviceProbe, poller: PrinterPoller, balances: Balances,
                 currency: str, notify: Notify, touch: Callable[[], None]) -> None:
        self.config = config
        self.printer = printer
        self.ledger = ledger
        self.probe = probe
        self.poller = poller
        self.balances = balances
        self.currency = currency
        self.notify = notify
        self.touch = touch
        self.prices = config.prices.table()
        self.settler = CopySettler(ledger=ledger, probe=probe, printer=printer,
                                   currency=currency, notify=notify,
                                   wait_s=config.settle_wait_s)
        self.active: Watched | None = None
        self._starting = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._recovered = asyncio.Event()
        self._jobs_settled = 0

    async def run(self) -> None:
        """Settle sessions an earlier run left open: the device's counters are cumulative,
        so they settle now as they would have then (less any copies made meanwhile)."""
        async with self._starting:
            for row in self.ledger.open_copies("counters"):
                await self._settle(row, "restart")
            self._recovered.set()

    async def close(self) -> None:
        if self.active is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self.stop(None, "shutdown")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ----- API ---------------------------------------------------------------------

    async def start(self, user: str) -> CopyProgress:
        try:
            await asyncio.wait_for(self._recovered.wait(), READY_WAIT_S)
        except TimeoutError:
            raise CopyUnavailable("Copying is not ready yet: an earlier copy session is "
                                  "still being settled") from None
        async with self._starting:
            if self.active is not None:
                raise CopyUnavailable("A copy session is already running")
            credit = await self.balances.credit(user)
            limit = copy_limit(credit.available, self.prices.values())
            before = await self.probe.snapshot()
            if before.snmp_life is None and before.ipp_total is None and not before.vendor:
                raise CopyUnavailable("Copying cannot be counted now: the copier's counters "
                                      "do not answer")
            key = self.ledger.open_copy(
                user=user, printer=self.printer, board_boot=0, evidence="counters",
                start={"snmp": before.snmp_life, "ipp": before.ipp_total,
                       "vendor": before.vendor, "limit": limit})
            row = self.ledger.copy_session(key)
            loop = asyncio.get_running_loop()
            active = Watched(key, user, limit, row.started_at, before, loop.time(),
                             done=loop.create_future())
            self.active = active
            self._task = asyncio.create_task(self._session(active), name="copy-counted")
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
        assert active.done is not None
        return await asyncio.shield(active.done)

    def end_soon(self, reason: str) -> None:
        """The user logged out (or was logged out): end their copy session, not waiting."""
        active = self.active
        if active is not None and active.stop_reason is None:
            active.stop_reason = reason
            active.stopped.set()

    def status(self) -> CopyProgress | None:
        return None if self.active is None else self._view(self.active)

    def job_settled(self) -> None:
        self._jobs_settled += 1
        self.settler.job_settled()

    # ----- the session -------------------------------------------------------------

    async def _session(self, active: Watched) -> None:
        assert active.done is not None
        try:
            reason = await self._follow(active)
            result = await self._settle(self.ledger.copy_session(active.key), reason)
            active.done.set_result(result)
        except BaseException as exc:
            if not active.done.done():
                active.done.set_exception(exc)
            raise
        finally:
            self.active = None

    async def _follow(self, active: Watched) -> str:
        """Show pages from each reading of the poller (fast while the session runs);
        returns why the session ended."""
        loop = asyncio.get_running_loop()
        with self.poller.fast():
            while active.stop_reason is None:
                reading = await self._next(active)
                if reading is not None:
                    self._progress(active, reading, loop.time())
                if active.stop_reason is not None:
                    break
                if price_of(active.pages, self.prices) >= active.limit:
                    return "credit"
                if loop.time() - active.last_change > self.config.idle_timeout_s:
                    return "idle"
        return active.stop_reason

    async def _next(self, active: Watched) -> Reading | None:
        """The poller's next reading, or None on Stop or after WAKE_S."""
        reading = asyncio.ensure_future(self.poller.next())
        stopped = asyncio.ensure_future(active.stopped.wait())
        try:
            await asyncio.wait({reading, stopped}, timeout=WAKE_S,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (reading, stopped):
                waiter.cancel()
        return reading.result() if reading.done() and not reading.cancelled() else None

    def _progress(self, active: Watched, reading: Reading, now: float) -> None:
        seen = (reading.counters(), reading.vendor, self._jobs_settled)
        if seen == active.seen:  # nothing moved: no need to read the ledger again
            return
        active.seen = seen
        start = active.start
        if copy_counter_names(start.vendor):
            printed = 0
        else:
            prints = prints_in_window(self.ledger.jobs(limit=200), self.printer,
                                      active.started_at, OPEN_END)
            if prints.pages is None:  # a print job is going: its pages are not copies
                return
            printed = prints.pages
        snmp = start.snmp_life is not None
        pages = live_pages(start.vendor, reading.vendor,
                           start.snmp_life if snmp else start.ipp_total,
                           reading.snmp_life if snmp else reading.ipp_total, printed)
        if pages is not None and pages != active.pages:
            active.pages, active.last_change = pages, now
            self.touch()
            self.notify(COPY_PROGRESS, self._view(active))

    def _view(self, active: Watched) -> CopyProgress:
        cost = price_of(active.pages, self.prices)
        return CopyProgress(session_key=active.key, user=active.user,
                            pages=sum(active.pages.values()),
                            pages_by_kind={k: n for k, n in active.pages.items() if n},
                            cost=cost, cost_text=format_money(cost, self.currency),
                            limit=active.limit, enforced=False)

    # ----- settling ----------------------------------------------------------------

    async def _settle(self, row: CopyRow, reason: str) -> CopyResult:
        after, prints = await self.settler.evidence(row)
        start_vendor: dict[str, int] = row.start.get("vendor") or {}
        by_copy = copy_counter_pages(start_vendor, after.vendor)
        copies = None if by_copy is None else sum(by_copy.values())
        counters, why = device_copy_pages(
            CounterReading(row.start["snmp"], after.snmp_life),
            CounterReading(row.start["ipp"], after.ipp_total), prints, copies or 0)
        decision = decide_counted(copies, counters, why,
                                  promised=bool(copy_counter_names(start_vendor)))
        by_kind = by_copy or {"mono": decision.pages}
        extra = decision.pages - sum(by_kind.values())
        dearest = max((self.prices[k] for k, n in by_kind.items() if n),
                      default=self.prices["mono"])
        cost = price_of(by_kind, self.prices) + max(0, extra) * dearest
        return self.settler.record(
            row, reason=reason, decision=decision, by_kind=by_kind, cost=cost,
            evidence=CopyEvidence(enforced=False, board_pages=None, copy_counter_pages=copies,
                                  prints_in_window=prints.pages),
            stored={"end": {"snmp": after.snmp_life, "ipp": after.ipp_total,
                            "vendor": after.vendor}})


__all__ = ["CopyDenied", "CopyUnavailable", "CountedRunner"]
