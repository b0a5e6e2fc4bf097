"""The simulated device's state: jobs, counters and faults.

Job and printer states are IPP's own values (`drivers.ipp.tags`), as on a real device.

Kept apart from the engine loop so the IPP, SNMP and control front-ends can read one
plain model, like the panel of a real MFD reads its controller.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

from drivers.ipp.tags import JobState

COUNTER32 = 2**32
SPLIT_COUNTERS = ("copy_mono", "print_mono", "copy_color", "print_color")


JamThen = Literal["abort", "continue"]
SnmpMode = Literal["normal", "timeout", "unknown", "garbage"]


@dataclass
class JobFaults:
    """Faults for one job. Page numbers count impressions already marked when it strikes."""

    jam_at: int | None = None
    jam_then: JamThen = "continue"
    paper_out_at: int | None = None
    cancel_at: int | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.jam_at, self.paper_out_at, self.cancel_at))


@dataclass
class DeviceFaults:
    """Device-wide faults and quirks."""

    snmp: SnmpMode = "normal"
    asleep_snmp: SnmpMode = "normal"
    offline: bool = False
    counter_save_every: int = 1
    jammed: bool = False
    paper_out: bool = False
    toner_low: bool = False
    ipp_counters: bool = True
    # Seconds the device's wall clock is off true time (negative: behind), as on printers
    # nobody set up. Moves printer-current-time and every date-time-at-* attribute.
    clock_offset: float = 0.0
    # SNMP GET requests to drop before answering again, as a printer that misses one and
    # answers the manager's retry seconds later.
    snmp_drop_gets: int = 0
    # Release-Job answered client-error-not-possible, as a printer whose hold queue is stuck.
    refuse_release: bool = False


@dataclass
class SimJob:
    """One job on the device: an IPP job, or a walk-up copy with no IPP job."""

    id: int
    name: str
    user: str
    origin: Literal["ipp", "copy"]
    pages: int
    copies: int = 1
    sides: str = "one-sided"
    color: bool = False
    media: str = "iso_a4_210x297mm"
    document_format: str = "application/octet-stream"
    state: JobState = JobState.PENDING
    reasons: list[str] = field(default_factory=lambda: ["none"])
    hold_until: str = "no-hold"
    awaiting_document: bool = False
    impressions_completed: int = 0
    faults: JobFaults = field(default_factory=JobFaults)
    cancel_requested: bool = False
    cancel_reason: str = "job-canceled-by-user"  # job-state-reason once the cancel lands
    created_at: float = field(default_factory=time.time)
    processing_at: float | None = None
    completed_at: float | None = None
    state_message: str = ""

    @property
    def impressions(self) -> int:
        return self.pages * self.copies

    @property
    def duplex(self) -> bool:
        return self.sides.startswith("two-sided")

    @property
    def sheets_completed(self) -> int:
        done = self.impressions_completed
        return math.ceil(done / 2) if self.duplex else done

    @property
    def color_mode(self) -> str:
        return "color" if self.color else "monochrome"

    def to_json(self) -> dict[str, object]:
        """The ground-truth view used by /sim/state."""
        return {
            "id": self.id,
            "name": self.name,
            "user": self.user,
            "origin": self.origin,
            "state": self.state.name.lower().replace("_", "-"),
            "state_reasons": list(self.reasons),
            "pages": self.pages,
            "copies": self.copies,
            "sides": self.sides,
            "color": self.color,
            "impressions": self.impressions,
            "printed": self.impressions_completed,
            "created_at": self.created_at,
            "processing_at": self.processing_at,
            "completed_at": self.completed_at,
        }


@dataclass
class Counters:
    """The engine's counters. `true_*` is ground truth; `reported_life` is what SNMP shows."""

    true_total: int = 0
    true_mono: int = 0
    true_color: int = 0
    power_on: int = 0
    offset: int = 0
    saved_total: int = 0
    reset_base: int = 0
    # Vendor-style split counters (print/copy by mono/color), ground truth, never reset.
    split: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLIT_COUNTERS, 0))

    def mark(self, color: bool, save_every: int, copy: bool = False) -> None:
        self.true_total += 1
        self.power_on += 1
        if color:
            self.true_color += 1
        else:
            self.true_mono += 1
        self.split[f"{'copy' if copy else 'print'}_{'color' if color else 'mono'}"] += 1
        if save_every <= 1 or self.true_total % save_every == 0:
            self.saved_total = self.true_total

    def resave(self, save_every: int) -> None:
        self.saved_total = self.true_total if save_every <= 1 else (
            self.true_total - self.true_total % save_every
        )

    @property
    def reported_life(self) -> int:
        """prtMarkerLifeCount as Counter32: saved value plus the wrap/reset offset."""
        return (self.saved_total + self.offset) % COUNTER32

    @property
    def ipp_total(self) -> int:
        """printer-impressions-completed: lifetime impressions after any reset."""
        return self.true_total - self.reset_base

    def wrap_soon(self, pages_before_wrap: int) -> None:
        """Move the reported counter so it wraps after `pages_before_wrap` more pages."""
        self.offset = (COUNTER32 - pages_before_wrap - self.saved_total) % COUNTER32

    def reset(self) -> None:
        """Power-cycle reset: the reported counters start again from zero."""
        self.offset = -self.saved_total
        self.reset_base = self.true_total
        self.power_on = 0
