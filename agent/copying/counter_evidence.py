"""Copy evidence from the device's own counters, for a copier without a board.

For sites whose copier has no interface board ([copier] tracking = "counters"). Nothing
can switch the copier, so the session only watches: the device's counters at the start
are written to the ledger first (a restart settles the session once from them, as they
are cumulative), the one printer poller's readings show pages live, and the end charges
what the vendor's copy counters and the page counter less the prints of the window show
(`counted_rules.py`). The credit limit is the life's to watch: the copier keeps copying.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager

from agent.config_models import CopierConfig
from agent.copying.counted_rules import (
    copy_counter_names,
    copy_counter_pages,
    decide_counted,
    live_pages,
)
from agent.copying.evidence import Final, Judged, Seen
from agent.copying.session import (
    CopyUnavailable,
    PrintsInWindow,
    device_copy_pages,
    prints_in_window,
)
from agent.copying.settling import EvidenceCounts
from agent.ledger import Ledger
from agent.ledger.models import CopyRow, EvidenceSource
from agent.metering.decide import CounterReading
from agent.metering.poller import PrinterPoller
from agent.metering.probe import DeviceProbe, Reading

OPEN_END = "9999"
"""A window end after any ledger time (they compare as text): the session is still on."""
WAKE_S = 1.0
"""Longest wait for a reading before the idle timeout and Stop are looked at again."""


class CounterEvidence:
    source: EvidenceSource = "counters"
    enforced = False
    available = True
    unavailable = ""
    not_ready = "Copying is not ready yet: an earlier copy session is still being settled"
    faults: tuple[type[Exception], ...] = ()

    def __init__(self, *, config: CopierConfig, printer: str, ledger: Ledger,
                 probe: DeviceProbe, poller: PrinterPoller) -> None:
        self.config = config
        self.printer = printer
        self.ledger = ledger
        self.probe = probe
        self.poller = poller
        self.jobs_settled = 0
        """Print jobs metering settled so far: a new one may change the pages shown."""

    async def connect(self) -> None:
        """Nothing to connect: the device is read through the probe and the poller."""

    async def close(self) -> None:
        """Nothing to let go of."""

    async def open(self, user: str, limit: int) -> CounterTracker:
        before = await self.probe.snapshot()
        if before.snmp_life is None and before.ipp_total is None and not before.vendor:
            raise CopyUnavailable("Copying cannot be counted now: the copier's counters "
                                  "do not answer")
        key = self.ledger.open_copy(
            user=user, printer=self.printer, board_boot=0, evidence="counters",
            start={"snmp": before.snmp_life, "ipp": before.ipp_total,
                   "vendor": before.vendor, "limit": limit})
        return CounterTracker(self, key, self.ledger.copy_session(key).started_at, before)

    async def final(self, row: CopyRow) -> Final:
        """The counters are read at rest by the settle: nothing else counted."""
        return None

    def judge(self, row: CopyRow, final: Final, after: Reading,
              prints: PrintsInWindow) -> Judged:
        """The vendor copy counters' delta against the page counter's less the prints."""
        start_vendor: dict[str, int] = row.start.get("vendor") or {}
        by_copy = copy_counter_pages(start_vendor, after.vendor)
        copies = None if by_copy is None else sum(by_copy.values())
        counters, why = device_copy_pages(
            CounterReading(row.start["snmp"], after.snmp_life),
            CounterReading(row.start["ipp"], after.ipp_total), prints, copies or 0)
        decision = decide_counted(copies, counters, why,
                                  promised=bool(copy_counter_names(start_vendor)))
        return Judged(
            decision, by_copy or {"mono": decision.pages},
            EvidenceCounts(enforced=False, board_pages=None, copy_counter_pages=copies,
                           prints_in_window=prints.pages),
            stored={"end": {"snmp": after.snmp_life, "ipp": after.ipp_total,
                            "vendor": after.vendor}})

    def job_settled(self) -> None:
        self.jobs_settled += 1


class CounterTracker:
    """One watched session: pages from each of the poller's readings."""

    def __init__(self, evidence: CounterEvidence, key: str, started_at: str,
                 start: Reading) -> None:
        self.evidence = evidence
        self.key = key
        self.started_at = started_at
        self.start = start
        self.seen: object = None
        """The counters and settled-job count last looked at: an unchanged reading is
        skipped (no ledger read every poll)."""
        self.stopped = asyncio.Event()

    async def switch_on(self, limit: int) -> None:
        """The copier is not ours to switch: it copies whenever asked."""

    def following(self) -> AbstractContextManager[None]:
        """The poller reads fast while the session runs."""
        return self.evidence.poller.fast()

    async def next(self) -> Seen:
        """The poller's next reading, or nothing new on Stop or after WAKE_S."""
        reading = asyncio.ensure_future(self.evidence.poller.next())
        stopped = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({reading, stopped}, timeout=WAKE_S,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (reading, stopped):
                waiter.cancel()
        if reading.done() and not reading.cancelled():
            return Seen(pages=self._pages(reading.result()))
        return Seen()

    def _pages(self, reading: Reading) -> dict[str, int] | None:
        evidence = self.evidence
        seen = (reading.counters(), reading.vendor, evidence.jobs_settled)
        if seen == self.seen:  # nothing moved: no need to read the ledger again
            return None
        self.seen = seen
        start = self.start
        if copy_counter_names(start.vendor):
            printed = 0
        else:
            prints = prints_in_window(evidence.ledger.jobs(limit=200), evidence.printer,
                                      self.started_at, OPEN_END)
            if prints.pages is None:  # a print job is going: its pages are not copies
                return None
            printed = prints.pages
        snmp = start.snmp_life is not None
        return live_pages(start.vendor, reading.vendor,
                          start.snmp_life if snmp else start.ipp_total,
                          reading.snmp_life if snmp else reading.ipp_total, printed)

    def wake(self) -> None:
        self.stopped.set()

    async def final(self, row: CopyRow) -> Final:
        return await self.evidence.final(row)
