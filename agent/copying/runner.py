"""A copy session on the event loop: enable the copier, renew the lease, show pages, settle.

The session is written to the ledger (with the board's boot id and cumulative counters and
the device's counters) before the relay goes on, so an agent that dies mid-session settles
it exactly once after restart from the board's counters: the board keeps counting, and its
lease turns copying off while nobody renews it. The rules live in `session.py`.
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
from agent.copying.board import CopyBoard
from agent.copying.session import (
    COPY_KINDS,
    CopyDenied,
    CopyUnavailable,
    board_pages,
    copy_limit,
    decide_copy,
    device_copy_pages,
    price_of,
)
from agent.copying.settling import CopyEvidence, CopySettler
from agent.ledger import Ledger
from agent.ledger.models import CopyRow
from agent.metering.decide import CounterReading
from agent.metering.probe import DeviceProbe
from agent.money import format_money
from firmware_bridge.host import BoardError, BoardReset, LinkEvent, Refused
from firmware_bridge.messages import OffReason, Status

log = logging.getLogger("pagetally.copy")


OFF_REASONS = {OffReason.LIMIT: "credit", OffReason.LEASE: "lease", OffReason.HOST: "stop",
               OffReason.BOOT: "board-reset"}
STABLE_READS = 3
"""Board reads, a page pulse apart, that must agree before the count is final: the page
in the copier when the relay dropped still comes out and is counted."""
STABLE_GAP_S = 0.3
DISABLE_GRACE_S = 2.0
READY_WAIT_S = 5.0


@dataclass
class Active:
    key: str
    user: str
    start: list[int]
    limit: int
    last_change: float
    board_session: int = -1
    """The board's session number from ENABLE: a STATUS of another (a report sent before
    the relay went on says "off, never enabled") says nothing about this session."""
    pages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COPY_KINDS, 0))
    stop_reason: str | None = None
    done: asyncio.Future[CopyResult] | None = None


class CopyRunner:
    enforced = True
    def __init__(self, *, config: CopierConfig, printer: str, ledger: Ledger,
                 probe: DeviceProbe, balances: Balances, currency: str, notify: Notify,
                 touch: Callable[[], None]) -> None:
        self.config = config
        self.printer = printer
        self.ledger = ledger
        self.probe = probe
        self.balances = balances
        self.currency = currency
        self.notify = notify
        self.touch = touch
        self.prices = config.prices.table()
        self.board = CopyBoard(config, self.prices) if config.board_port else None
        self.active: Active | None = None
        self._starting = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.settler = CopySettler(ledger=ledger, probe=probe, printer=printer,
                                   currency=currency, notify=notify,
                                   wait_s=config.settle_wait_s)
        self._recovered = asyncio.Event()
        """Set once sessions an earlier run left open are settled: settling one turns the
        relay off, so no new session may start before."""

    # ----- life --------------------------------------------------------------------

    async def run(self) -> None:
        """Connect to the board, then settle sessions an earlier run left open."""
        if self.board is None:
            return
        await self.board.connect()
        async with self._starting:
            for row in self.ledger.open_copies():
                await self._settle(row, await self._final_board(row), "restart")
            self._recovered.set()

    async def close(self) -> None:
        """A session running at shutdown is stopped and settled first."""
        if self.active is not None:
            with contextlib.suppress(TimeoutError, BoardError):
                async with asyncio.timeout(10):
                    await self.stop(None, "shutdown")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.board is not None:
            await self.board.close()

    @property
    def available(self) -> bool:
        """Copy sessions can run here: a board is configured."""
        return self.board is not None

    # ----- API ---------------------------------------------------------------------

    async def start(self, user: str) -> CopyProgress:
        board = self.board
        if board is None:
            raise CopyUnavailable("This device has no copier board: copying is not metered")
        try:
            await asyncio.wait_for(self._recovered.wait(), READY_WAIT_S)
        except TimeoutError:
            raise CopyUnavailable("The copier is not ready yet: its board does not answer"
                                  ) from None
        async with self._starting:
            if self.active is not None:
                raise CopyUnavailable("A copy session is already running")
            credit = await self.balances.credit(user)
            limit = copy_limit(credit.available, self.prices.values())
            try:
                status = await board.ready()
                before = await self.probe.snapshot()
                key = self.ledger.open_copy(
                    user=user, printer=self.printer, board_boot=status.boot_id,
                    start={"board_pages": [c.pages for c in status.channels],
                           "snmp": before.snmp_life, "ipp": before.ipp_total,
                           "limit": limit, "kinds": board.kinds})
            except BoardError as exc:
                raise CopyUnavailable(f"Copying is not available: {exc}") from exc
            loop = asyncio.get_running_loop()
            active = Active(key, user, [c.pages for c in status.channels], limit,
                            loop.time(), done=loop.create_future())
            try:
                active.board_session = (await board.link.enable(limit,
                                                               self.config.lease_s)).session
            except BoardError as exc:
                await self._settle(self.ledger.copy_session(key), status, "board")
                raise CopyUnavailable(f"The copier could not be enabled: {exc}") from exc
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
        if active.stop_reason is None:
            active.stop_reason = reason
        assert self.board is not None and active.done is not None
        self.board.link.events.put_nowait(LinkEvent("stop"))
        return await asyncio.shield(active.done)

    def end_soon(self, reason: str) -> None:
        """The user logged out (or was logged out): end their copy session, not waiting."""
        active = self.active
        if active is not None and active.stop_reason is None and self.board is not None:
            active.stop_reason = reason
            self.board.link.events.put_nowait(LinkEvent("stop"))

    def status(self) -> CopyProgress | None:
        return None if self.active is None else self._view(self.active)

    # ----- the session -------------------------------------------------------------

    async def _session(self, active: Active) -> None:
        assert active.done is not None
        try:
            reason = await self._follow(active)
            row = self.ledger.copy_session(active.key)
            result = await self._settle(row, await self._final_board(row), reason)
            active.done.set_result(result)
        except BaseException as exc:
            if not active.done.done():
                active.done.set_exception(exc)
            raise
        finally:
            self.active = None

    async def _follow(self, active: Active) -> str:
        """Renew the lease a third of the way into it and show each page; returns why the
        session ended."""
        assert self.board is not None
        link, loop = self.board.link, asyncio.get_running_loop()
        every = self.config.lease_s / 3
        renew_at = loop.time() + every
        while active.stop_reason is None:
            try:
                event: LinkEvent | None = await asyncio.wait_for(
                    link.events.get(), max(0.0, renew_at - loop.time()))
            except TimeoutError:
                event = None
            status: Status | None = None
            try:
                if event is None:
                    renew_at = loop.time() + every
                    status = await self._renew()
                elif event.kind == "report":
                    status = event.status
                elif event.kind == "reset":
                    return "board-reset"
            except BoardReset:
                return "board-reset"
            except BoardError as exc:  # the line may come back; the board stays safe alone
                log.warning("copy session %s: the board did not answer: %s", active.key, exc)
            if status is not None and status.session == active.board_session:
                self._progress(active, status, loop.time())
                if not status.relay:
                    return OFF_REASONS.get(status.off_reason, "stop")
            if loop.time() - active.last_change > self.config.idle_timeout_s:
                return "idle"
        return active.stop_reason

    async def _renew(self) -> Status:
        """The lease renewed; a relay already off (limit, lapse) answers NAK: read why."""
        assert self.board is not None
        try:
            return await self.board.link.renew(self.config.lease_s)
        except Refused:
            return await self.board.link.read()

    def _progress(self, active: Active, status: Status, now: float) -> None:
        assert self.board is not None
        pages = board_pages(active.start, [c.pages for c in status.channels], self.board.kinds)
        if any(pages[kind] < n for kind, n in active.pages.items()):
            return  # older than shown: a report read after a newer answer, or a repeated one
        if pages != active.pages:
            active.pages, active.last_change = pages, now
            self.touch()
            self.notify(COPY_PROGRESS, self._view(active))

    def _view(self, active: Active) -> CopyProgress:
        cost = price_of(active.pages, self.prices)
        return CopyProgress(session_key=active.key, user=active.user,
                            pages=sum(active.pages.values()),
                            pages_by_kind={k: n for k, n in active.pages.items() if n},
                            cost=cost, cost_text=format_money(cost, self.currency),
                            limit=active.limit, enforced=True)

    # ----- settling ----------------------------------------------------------------

    async def _final_board(self, row: CopyRow) -> Status | None:
        """The board's counters once copying is off and the last page is out; None when
        they cannot be compared with the start (the board restarted, or is gone)."""
        assert self.board is not None
        link = self.board.link
        try:
            if link.identity is None:
                await self.board.ready()
            status = await self._disable()
            for _ in range(STABLE_READS):
                await asyncio.sleep(STABLE_GAP_S)
                again = await link.read()
                if again.channels == status.channels:
                    break
                status = again
        except BoardError as exc:
            log.warning("copier board counters unreadable at settle: %s", exc)
            return None
        if status.boot_id != row.board_boot:
            return None
        return status

    async def _disable(self) -> Status:
        """Copying off, trying until a lease has surely lapsed: after that the relay is off
        whatever we send, and a board still silent is gone."""
        assert self.board is not None
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.lease_s + DISABLE_GRACE_S
        while True:
            try:
                return await self.board.link.disable()
            except BoardReset:
                raise
            except BoardError:
                if loop.time() > give_up:
                    raise

    def job_settled(self) -> None:
        """Metering settled a print job (its `job.result`): a settle waiting for it goes on."""
        self.settler.job_settled()

    async def _settle(self, row: CopyRow, final: Status | None, reason: str
                      ) -> CopyResult:
        after, prints = await self.settler.evidence(row)
        kinds = {int(k): v for k, v in row.start["kinds"].items()}
        start_pages: list[int] = row.start["board_pages"]
        by_kind = {} if final is None else board_pages(
            start_pages, [c.pages for c in final.channels], kinds)
        board = sum(by_kind.values())
        counters, why = device_copy_pages(
            CounterReading(row.start["snmp"], after.snmp_life),
            CounterReading(row.start["ipp"], after.ipp_total), prints, board)
        decision = decide_copy(None if final is None else board, counters, why)
        extra = decision.pages - board
        dearest = max((self.prices[k] for k, n in by_kind.items() if n),
                      default=self.prices["mono"])
        cost = price_of(by_kind, self.prices) + max(0, extra) * dearest
        return self.settler.record(
            row, reason=reason, decision=decision, by_kind=by_kind, cost=cost,
            evidence=CopyEvidence(enforced=True,
                                  board_pages=board if final is not None else None,
                                  copy_counter_pages=None, prints_in_window=prints.pages))


__all__ = ["CopyDenied", "CopyRunner", "CopyUnavailable"]
