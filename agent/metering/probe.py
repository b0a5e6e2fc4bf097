"""One reading of the device's counters and state, from SNMP and IPP at once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

from drivers.ipp.client import IppClient, IppError
from drivers.snmp.reader import SnmpReader


@dataclass(frozen=True)
class Reading:
    snmp_life: int | None
    ipp_total: int | None
    printer_state: str
    snmp_status: str | None
    reasons: tuple[str, ...]
    problems: tuple[str, ...]
    at: float

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

    async def read(self) -> Reading:
        problems: list[str] = []
        snap_task = asyncio.create_task(self.snmp.read()) if self.snmp else None
        try:
            printer = await self.ipp.printer()
            ipp_total, state = printer.impressions_completed, printer.state.name.lower()
            reasons = tuple(printer.state_reasons)
        except IppError as exc:
            ipp_total, state, reasons = None, "unknown", ()
            problems.append(str(exc))
        snmp_life = snmp_status = None
        if snap_task is not None:
            snap = await snap_task
            snmp_life, snmp_status = snap.life_count, snap.printer_status
            if snap.problem:
                problems.append(snap.problem)
        return Reading(snmp_life, ipp_total, state, snmp_status, reasons, tuple(problems),
                       time.time())
