"""Copy evidence from the copier interface board: it switches the copier and counts pulses.

The board's boot id and cumulative counters (and the device's counters) are written to the
ledger before the relay goes on, so an agent that dies mid-session settles it exactly once
after restart from the board's counters: the board keeps counting, and its lease turns
copying off while nobody renews it. The board enforces the credit limit itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractContextManager

from agent.config_models import CopierConfig
from agent.copying.board import CopyBoard
from agent.copying.evidence import Final, Judged, Seen
from agent.copying.session import (
    COPY_KINDS,
    CopyUnavailable,
    PrintsInWindow,
    board_pages,
    decide_copy,
    device_copy_pages,
)
from agent.copying.settling import EvidenceCounts
from agent.ledger import Ledger
from agent.ledger.models import CopyRow, EvidenceSource
from agent.metering.decide import CounterReading
from agent.metering.probe import DeviceProbe, Reading
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


class BoardEvidence:
    source: EvidenceSource = "board"
    enforced = True
    unavailable = "This device has no copier board: copying is not metered"
    not_ready = "The copier is not ready yet: its board does not answer"
    faults: tuple[type[Exception], ...] = (BoardError,)

    def __init__(self, *, config: CopierConfig, printer: str, ledger: Ledger,
                 probe: DeviceProbe) -> None:
        self.config = config
        self.printer = printer
        self.ledger = ledger
        self.probe = probe
        self.board = CopyBoard(config, config.prices.table()) if config.board_port else None

    @property
    def available(self) -> bool:
        """A board is configured."""
        return self.board is not None

    def _board(self) -> CopyBoard:
        if self.board is None:
            raise CopyUnavailable(self.unavailable)
        return self.board

    async def connect(self) -> None:
        await self._board().connect()

    async def close(self) -> None:
        if self.board is not None:
            await self.board.close()

    async def open(self, user: str, limit: int) -> BoardTracker:
        board = self._board()
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
        return BoardTracker(self, board, key, status)

    async def final(self, row: CopyRow) -> Final:
        """The board's counters once copying is off and the last page is out; None when
        they cannot be compared with the start (the board restarted, or is gone)."""
        board = self._board()
        link = board.link
        try:
            if link.identity is None:
                await board.ready()
            status = await self._disable(board)
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
        return [c.pages for c in status.channels]

    async def _disable(self, board: CopyBoard) -> Status:
        """Copying off, trying until a lease has surely lapsed: after that the relay is off
        whatever we send, and a board still silent is gone."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.lease_s + DISABLE_GRACE_S
        while True:
            try:
                return await board.link.disable()
            except BoardReset:
                raise
            except BoardError:
                if loop.time() > give_up:
                    raise

    def judge(self, row: CopyRow, final: Final, after: Reading,
              prints: PrintsInWindow) -> Judged:
        """The board's pulses against the device's counter delta less the prints."""
        kinds = {int(k): v for k, v in row.start["kinds"].items()}
        by_kind = {} if final is None else board_pages(row.start["board_pages"], final, kinds)
        board = sum(by_kind.values())
        counters, why = device_copy_pages(
            CounterReading(row.start["snmp"], after.snmp_life),
            CounterReading(row.start["ipp"], after.ipp_total), prints, board)
        decision = decide_copy(None if final is None else board, counters, why)
        return Judged(decision, by_kind, EvidenceCounts(
            enforced=True, board_pages=board if final is not None else None,
            copy_counter_pages=None, prints_in_window=prints.pages))

    def job_settled(self) -> None:
        """The board counts copies alone: a settled print job changes no page shown."""


class BoardTracker:
    """One session on the board: the lease renewed, each STATUS of this session shown."""

    def __init__(self, evidence: BoardEvidence, board: CopyBoard, key: str,
                 start: Status) -> None:
        self.evidence = evidence
        self.board = board
        self.key = key
        self.start = start
        self.session = -1
        """The board's session number from ENABLE: a STATUS of another (a report sent
        before the relay went on says "off, never enabled") says nothing about this one."""
        self.shown = dict.fromkeys(COPY_KINDS, 0)
        self._switched_on = False
        self._renew_at = 0.0

    @property
    def _every(self) -> float:
        """The lease is renewed a third of the way into it."""
        return self.evidence.config.lease_s / 3

    async def switch_on(self, limit: int) -> None:
        try:
            enabled = await self.board.link.enable(limit, self.evidence.config.lease_s)
        except BoardError as exc:
            raise CopyUnavailable(f"The copier could not be enabled: {exc}") from exc
        self.session, self._switched_on = enabled.session, True
        self._renew_at = asyncio.get_running_loop().time() + self._every

    def following(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    async def next(self) -> Seen:
        link, loop = self.board.link, asyncio.get_running_loop()
        try:
            event: LinkEvent | None = await asyncio.wait_for(
                link.events.get(), max(0.0, self._renew_at - loop.time()))
        except TimeoutError:
            event = None
        status: Status | None = None
        try:
            if event is None:
                self._renew_at = loop.time() + self._every
                status = await self._renew()
            elif event.kind == "report":
                status = event.status
            elif event.kind == "reset":
                return Seen(ended="board-reset")
        except BoardReset:
            return Seen(ended="board-reset")
        except BoardError as exc:  # the line may come back; the board stays safe alone
            log.warning("copy session %s: the board did not answer: %s", self.key, exc)
        if status is None or status.session != self.session:
            return Seen()
        return Seen(pages=self._pages(status),
                    ended=None if status.relay else OFF_REASONS.get(status.off_reason, "stop"))

    async def _renew(self) -> Status:
        """The lease renewed; a relay already off (limit, lapse) answers NAK: read why."""
        try:
            return await self.board.link.renew(self.evidence.config.lease_s)
        except Refused:
            return await self.board.link.read()

    def _pages(self, status: Status) -> dict[str, int] | None:
        """Pages by kind; None for a STATUS older than what is shown (a report read after
        a newer answer, or an answer the board repeated): live pages never go back."""
        pages = board_pages([c.pages for c in self.start.channels],
                            [c.pages for c in status.channels], self.board.kinds)
        if any(pages[kind] < n for kind, n in self.shown.items()):
            return None
        self.shown = pages
        return pages

    def wake(self) -> None:
        self.board.link.events.put_nowait(LinkEvent("stop"))

    async def final(self, row: CopyRow) -> Final:
        """Never switched on: the board's counters at the start are its counters now."""
        if not self._switched_on:
            return [c.pages for c in self.start.channels]
        return await self.evidence.final(row)
