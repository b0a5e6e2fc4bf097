"""Settling a copy session: the device read at rest, the prints of the window, one charge.

Shared by sessions through the copier board and sessions counted from the device's own
counters: both wait for the print jobs of the window to settle (their pages come off the
device's counter delta), read the device once it stops moving, and write one `copy`
charge with its evidence. The ledger makes a second settle of the same session a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from agent.api.methods import COPY_PROGRESS, Notify
from agent.api.payloads import CopyResult
from agent.copying.session import CopyDecision, PrintsInWindow, prints_in_window
from agent.ledger import Ledger
from agent.ledger.models import CopyRow
from agent.ledger.payloads import copy_note
from agent.metering.probe import DeviceProbe, Reading
from agent.money import format_money

log = logging.getLogger("pagetally.copy")

REST_READS = 50
REST_GAP_S = 0.2


class EvidenceCounts(msgspec.Struct, kw_only=True, frozen=True):
    """What each kind of session counted, for the result beside the decision."""

    enforced: bool
    board_pages: int | None
    copy_counter_pages: int | None
    prints_in_window: int | None


class CopySettler:
    def __init__(self, *, ledger: Ledger, probe: DeviceProbe, printer: str, currency: str,
                 notify: Notify, wait_s: float) -> None:
        self.ledger = ledger
        self.probe = probe
        self.printer = printer
        self.currency = currency
        self.notify = notify
        self.wait_s = wait_s
        self._job_settled = asyncio.Event()

    def job_settled(self) -> None:
        """Metering settled a print job (its `job.result`): a settle waiting for it goes on."""
        self._job_settled.set()

    async def evidence(self, row: CopyRow) -> tuple[Reading, PrintsInWindow]:
        """The device at rest after the session, and the pages print jobs made in it."""
        await self._wait_for_prints()
        after = await self._device_at_rest()
        prints = prints_in_window(self.ledger.jobs(limit=200), self.printer, row.started_at,
                                  _now_text())
        return after, prints

    def record(self, row: CopyRow, *, reason: str, decision: CopyDecision,
               by_kind: Mapping[str, int], cost: int, evidence: EvidenceCounts,
               stored: dict[str, Any] | None = None) -> CopyResult:
        """Write the one `copy` charge and tell the panel. `evidence` goes into the result
        the API returns; `stored` only into the ledger (the raw counters at the end)."""
        found = {"session_key": row.session_key, "user": row.user, "reason": reason,
                 "pages": decision.pages,
                 "pages_by_kind": {k: n for k, n in by_kind.items() if n},
                 **msgspec.structs.asdict(evidence), "counter_pages": decision.counter_pages,
                 "source": decision.source, "review": decision.review,
                 "note": decision.note, "cost": cost}
        txn = self.ledger.settle_copy(row.session_key, pages=decision.pages, cost=cost,
                                      review=decision.review,
                                      result={**found, **(stored or {})},
                                      note=copy_note(decision.pages))
        charged = -txn.amount if txn is not None else 0
        result = CopyResult(
            session_key=row.session_key, state="review" if decision.review else "settled",
            user=row.user, reason=reason, pages=decision.pages,
            pages_by_kind=found["pages_by_kind"], enforced=evidence.enforced,
            board_pages=evidence.board_pages, counter_pages=decision.counter_pages,
            copy_counter_pages=evidence.copy_counter_pages,
            prints_in_window=evidence.prints_in_window, source=decision.source,
            review=decision.review, note=decision.note, cost=cost,
            cost_text=format_money(cost, self.currency), charged=charged,
            charged_text=format_money(charged, self.currency))
        log.info("copy session %s settled (%s): %s pages, %s", row.session_key, reason,
                 decision.pages, result.cost_text)
        self.notify(COPY_PROGRESS, result)
        return result

    def _printing(self) -> bool:
        return any(job.printer == self.printer for job in self.ledger.unfinished())

    async def _wait_for_prints(self) -> None:
        """Print jobs metered during the session settle first: their pages are taken off
        the device's counter delta (one still going after wait_s makes it unknown)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.wait_s):
                while True:
                    self._job_settled.clear()
                    if not self._printing():
                        return
                    await self._job_settled.wait()

    async def _device_at_rest(self) -> Reading:
        """The device's counters once it is idle and they stop moving: pages counted may
        still be going through the engine behind a print job."""
        last = await self.probe.read()
        for _ in range(REST_READS):
            await asyncio.sleep(REST_GAP_S)
            now = await self.probe.read()
            if now.idle and last.idle and now.counters() == last.counters() \
                    and now.vendor == last.vendor:
                return now
            last = now
        return last


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
