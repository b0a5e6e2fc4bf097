"""One reading of the device's counters and state, from SNMP and IPP at once."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from drivers.ipp.client import IppClient, IppError
from drivers.snmp.reader import PrinterSnapshot, SnmpReader

log = logging.getLogger("pagetally.metering")

PAIR_SPREAD_S = 0.5
"""SNMP and IPP answers further apart than this are not one instant: a page may have printed
between them (a printer that answers SNMP only on a retry, seconds later)."""
PAIR_TRIES = 3

CLOCK_NOTE_S = 5.0
"""A device clock off ours by more than this is logged, and again each time it moves by
as much: worth a technician's look, though metering reads job times on the device's clock."""


@dataclass(frozen=True)
class Reading:
    snmp_life: int | None
    ipp_total: int | None
    printer_state: str
    snmp_status: str | None
    reasons: tuple[str, ...]
    problems: tuple[str, ...]
    at: float
    """When the reading began, before either request went out: a job's window starts here,
    so nothing printed while the two answers came back can fall outside it."""
    clock_offset: float | None = None
    """Seconds the device's clock is ahead of ours (negative: behind); None if it has none."""
    ipp_at: float | None = None
    snmp_at: float | None = None
    """When each source answered (None: it did not), kept as evidence of the instant."""
    vendor: dict[str, int] = field(default_factory=dict)
    """The profile's vendor counters that answered (e.g. copy_mono): copies counted apart
    from prints, for copy sessions without a board."""

    @property
    def spread(self) -> float:
        """Seconds from the start of the reading to the last answer."""
        return max((t for t in (self.ipp_at, self.snmp_at) if t is not None),
                   default=self.at) - self.at

    @property
    def idle(self) -> bool:
        """Not marking paper by any source that answered. A stopped (jammed) printer is
        idle too: its counters cannot move until someone clears it."""
        if self.snmp_status in {"printing", "warmup"}:
            return False
        return self.printer_state != "processing"

    def counters(self) -> tuple[int | None, int | None]:
        return self.snmp_life, self.ipp_total

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DeviceProbe:
    def __init__(self, ipp: IppClient, snmp: SnmpReader | None) -> None:
        self.ipp = ipp
        self.snmp = snmp
        self.clock_offset: float | None = None
        """The device clock's offset as last read; None until a read carries one."""
        self._noted_offset = 0.0

    async def snapshot(self) -> Reading:
        """The counters before a release, as one instant: SNMP and IPP are asked together,
        and a pair whose answers came back more than PAIR_SPREAD_S apart is read again as a
        pair, so neither counter can include a page the other missed. A source that does
        not answer at all is not retried here: its counter is simply unknown."""
        reading = await self.read()
        for _ in range(PAIR_TRIES - 1):
            if reading.spread <= PAIR_SPREAD_S or None in (reading.ipp_at, reading.snmp_at):
                break
            log.info("SNMP and IPP answered %.1f s apart; reading both again", reading.spread)
            reading = await self.read()
        return reading

    async def read(self) -> Reading:
        problems: list[str] = []
        started = time.time()
        snap_task = asyncio.create_task(self.snmp.read()) if self.snmp else None
        offset = ipp_at = snmp_at = None
        try:
            printer = await self.ipp.printer()
            ipp_at = time.time()
            offset = clock_offset(printer.current_time, started, ipp_at)
            ipp_total, state = printer.impressions_completed, printer.state.name.lower()
            reasons = tuple(printer.state_reasons)
        except IppError as exc:
            ipp_total, state, reasons = None, "unknown", ()
            problems.append(str(exc))
        if offset is not None:
            self.clock_offset = offset
            self._note_clock(offset)
        snmp_life = snmp_status = None
        vendor: dict[str, int] = {}
        if snap_task is not None:
            snap = await snap_task
            snmp_life, snmp_status = device_life_count(snap), snap.printer_status
            vendor = dict(snap.vendor_counters)
            if snap.problem:
                problems.append(snap.problem)
            if snap.reachable:
                snmp_at = time.time() - (time.monotonic() - snap.read_at)
        return Reading(snmp_life, ipp_total, state, snmp_status, reasons, tuple(problems),
                       started, offset, ipp_at, snmp_at, vendor)

    def _note_clock(self, offset: float) -> None:
        if abs(offset - self._noted_offset) < CLOCK_NOTE_S:
            return
        self._noted_offset = offset
        if abs(offset) < CLOCK_NOTE_S:
            log.info("the printer's clock now agrees with this terminal's")
            return
        log.warning("the printer's clock is %.0f s %s this terminal's; job times are read on "
                    "the printer's clock, but its owner should set it (NTP)", abs(offset),
                    "ahead of" if offset > 0 else "behind")


def device_life_count(snap: PrinterSnapshot) -> int | None:
    """Impressions over the device's life: the sum of its markers' counts when it has several
    counting in one unit (a colour engine beside a black one marks different pages), else the
    first marker's. Reading marker 1 only charged a colour page as 0 (found by a test)."""
    counts = [m.life_count for m in snap.markers]
    if len(counts) > 1 and len({m.unit for m in snap.markers}) == 1:
        return None if None in counts else sum(c for c in counts if c is not None)
    return snap.life_count


def clock_offset(device_now: datetime | None, sent: float, received: float) -> float | None:
    """How far the device's clock is ahead of ours, against the middle of the request that
    read it: off by at most half the round trip plus the attribute's tenth of a second."""
    if device_now is None:
        return None
    return round(device_now.timestamp() - (sent + received) / 2, 2)
