"""The print engine: one job at a time, page by page, with faults on demand.

Every page is one impression marked on the counters; the model it updates is the
ground truth that metering tests compare charges against.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from drivers.ipp.tags import JobState, PrinterState
from simulator.config import SimConfig
from simulator.model import Counters, DeviceFaults, JobFaults, SimJob
from simulator.profiles import Quirks, Selection, combine

log = logging.getLogger("pagetally.sim.engine")


class SimError(Exception):
    """A request the device refuses; `kind` lets front-ends pick a status code."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Engine:
    """The device: queue, engine loop, counters and faults."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.boot_time = time.time()
        self.boot_monotonic = time.monotonic()
        self.jobs: dict[int, SimJob] = {}
        self.counters = Counters()
        self.faults = DeviceFaults()
        self.profiles = Selection()
        self.quirks = Quirks()
        self.pending_job_faults: deque[JobFaults] = deque()
        self.state = PrinterState.IDLE
        self.warm = False
        self.asleep = True
        self.current: SimJob | None = None
        self._next_id = 1
        self._wake = asyncio.Event()
        self._cleared = asyncio.Event()
        self._copies: deque[SimJob] = deque()
        self._last_active = time.monotonic()
        self._listeners: list[Callable[[], None]] = []
        self.apply_profiles(config.profiles)

    # ----- queries -------------------------------------------------------------

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.boot_monotonic

    def seconds_since_boot(self, at: float | None) -> int:
        return 0 if at is None else max(1, int(at - self.boot_time) + 1)

    def device_clock(self, at: float) -> datetime:
        """What the device's own wall clock read at `at`, set wrong or not; a clock never
        set (quirk clock_1970) has counted from 1970-01-01 since power-on."""
        if self.quirks.clock_1970:
            return datetime.fromtimestamp(max(at - self.boot_time, 0.0), UTC)
        return datetime.fromtimestamp(at + self.faults.clock_offset, UTC)

    @property
    def state_reasons(self) -> list[str]:
        reasons: list[str] = []
        if self.faults.jammed:
            reasons.append("media-jam-error")
        if self.faults.paper_out:
            reasons.append("media-empty-error")
        if self.faults.offline:
            reasons.append("offline-report")
        if self.faults.toner_low:
            reasons.append("toner-low-warning")
        if self.asleep and not reasons:
            reasons.append("sleep")
        return reasons or ["none"]

    @property
    def printer_state(self) -> PrinterState:
        if self.faults.jammed or self.faults.paper_out or self.faults.offline:
            return PrinterState.STOPPED
        return self.state

    @property
    def console_text(self) -> str:
        if self.faults.jammed:
            return "Paper jam. Open door and remove paper."
        if self.faults.paper_out:
            return "Load paper in tray 1."
        if self.faults.offline:
            return "Offline"
        if self.asleep:
            return "Sleep mode"
        if self.current is not None:
            return "Printing"
        return "Ready"

    def snmp_mode(self) -> str:
        """How the SNMP agent should answer right now."""
        if self.faults.offline:
            return "timeout" if self.faults.snmp == "normal" else self.faults.snmp
        if self.asleep and self.faults.asleep_snmp != "normal":
            return self.faults.asleep_snmp
        return self.faults.snmp

    def job(self, job_id: int) -> SimJob:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise SimError("not-found", f"job {job_id} does not exist") from None

    def ipp_jobs(self) -> list[SimJob]:
        return [j for j in self.jobs.values() if j.origin == "ipp"]

    # ----- job intake ----------------------------------------------------------

    def _new_id(self) -> int:
        job_id = self._next_id
        self._next_id += 1
        return job_id

    def _faults_for_new_job(self, pages: int) -> JobFaults:
        if self.pending_job_faults:
            return self.pending_job_faults.popleft()
        if self.config.fault_rate and self.rng.random() < self.config.fault_rate and pages > 1:
            kind = self.rng.choice(["jam", "paper", "cancel"])
            at = self.rng.randint(1, pages - 1)
            if kind == "jam":
                return JobFaults(jam_at=at, jam_then=(
                    "abort" if self.config.jam_then == "abort" else "continue"))
            if kind == "paper":
                return JobFaults(paper_out_at=at)
            return JobFaults(cancel_at=at)
        return JobFaults(jam_then="abort" if self.config.jam_then == "abort" else "continue")

    def submit(
        self,
        *,
        name: str,
        user: str,
        pages: int,
        copies: int = 1,
        sides: str = "one-sided",
        color: bool = False,
        media: str = "iso_a4_210x297mm",
        document_format: str = "application/octet-stream",
        hold_until: str = "no-hold",
        awaiting_document: bool = False,
    ) -> SimJob:
        """Accept a job. Held jobs wait for release; the rest queue for the engine."""
        job = SimJob(
            id=self._new_id(),
            name=name,
            user=user,
            origin="ipp",
            pages=max(pages, 0),
            copies=max(copies, 1),
            sides=sides,
            color=color,
            media=media,
            document_format=document_format,
            hold_until=hold_until,
            awaiting_document=awaiting_document,
        )
        job.faults = self._faults_for_new_job(job.impressions)
        held = hold_until not in ("", "no-hold") or self.config.hold_all
        if held:
            job.state = JobState.PENDING_HELD
            job.reasons = ["job-hold-until-specified"]
        elif awaiting_document:
            job.reasons = ["job-incoming"]
        self.jobs[job.id] = job
        log.info("job %d %r from %s: %d impressions%s", job.id, name, user, job.impressions,
                 " (held)" if held else "")
        self._kick()
        return job

    def add_document(self, job_id: int, *, pages: int, document_format: str) -> SimJob:
        """Send-Document: the job gets its pages and may now be scheduled."""
        job = self.job(job_id)
        if not job.awaiting_document:
            raise SimError("not-possible", f"job {job_id} is not waiting for a document")
        job.pages += pages
        job.document_format = document_format
        job.awaiting_document = False
        if job.state == JobState.PENDING:
            job.reasons = ["none"]
        if job.faults == JobFaults(jam_then=job.faults.jam_then):
            job.faults = self._faults_for_new_job(job.impressions)
        self._kick()
        return job

    def make_copy(self, pages: int, color: bool = False, user: str = "walk-up") -> SimJob:
        """A walk-up copy: pages on the counters with no IPP job behind them."""
        if pages < 1:
            raise SimError("bad-request", "a copy needs at least 1 page")
        job = SimJob(id=self._new_id(), name="Copy", user=user, origin="copy",
                     pages=pages, color=color)
        self.jobs[job.id] = job
        self._copies.append(job)
        self._kick()
        return job

    # ----- job control ---------------------------------------------------------

    def release(self, job_id: int) -> SimJob:
        job = self.job(job_id)
        if self.faults.refuse_release:
            raise SimError("not-possible", f"job {job_id} cannot be released now (fault)")
        if job.state != JobState.PENDING_HELD:
            raise SimError("not-possible", f"job {job_id} is not held")
        job.state = JobState.PENDING
        job.hold_until = "no-hold"
        job.reasons = ["job-incoming"] if job.awaiting_document else ["none"]
        self._kick()
        return job

    def hold(self, job_id: int) -> SimJob:
        job = self.job(job_id)
        if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
            raise SimError("not-possible", f"job {job_id} is {job.state.name.lower()}")
        job.state = JobState.PENDING_HELD
        job.hold_until = "indefinite"
        job.reasons = ["job-hold-until-specified"]
        self._notify()
        return job

    def cancel(self, job_id: int, *, at_device: bool = False) -> SimJob:
        job = self.job(job_id)
        if job.state.terminal:
            raise SimError("not-possible", f"job {job_id} is already {job.state.name.lower()}")
        reason = "job-canceled-at-device" if at_device else "job-canceled-by-user"
        if job.state == JobState.PROCESSING:
            job.cancel_requested = True
            job.cancel_reason = reason
            job.reasons = ["processing-to-stop-point"]
            self._cleared.set()
        else:
            self._finish(job, JobState.CANCELED, [reason])
            if job is self.current:
                self._cleared.set()
        return job

    def set_job_faults(self, job_id: int | None, faults: JobFaults) -> None:
        """Faults for an existing job, or (job_id None) for the next job to arrive."""
        if job_id is None:
            self.pending_job_faults.append(faults)
        else:
            self.job(job_id).faults = faults

    def clear(self) -> None:
        """Operator clears a jam, loads paper and brings the device online."""
        self.faults.jammed = False
        self.faults.paper_out = False
        self.faults.offline = False
        self._cleared.set()
        self._kick()

    def set_offline(self, offline: bool) -> None:
        self.faults.offline = offline
        if not offline:
            self._cleared.set()
            self._kick()
        self._notify()

    def sleep_now(self) -> None:
        if self.current is None:
            self.asleep, self.warm = True, False
            self._notify()

    def wake(self) -> None:
        self.asleep = False
        self._last_active = time.monotonic()
        self._notify()

    def power_cycle(self) -> None:
        """Off and on again: every job is forgotten and numbering starts again at 1, as on
        most printers; the life counters persist (they are kept in NVRAM)."""
        for job in self.jobs.values():
            job.cancel_requested, job.cancel_reason = True, "job-canceled-by-operator"
        self.jobs.clear()
        self._copies.clear()
        self._next_id = 1
        self.boot_time, self.boot_monotonic = time.time(), time.monotonic()
        self.faults.jammed = self.faults.paper_out = False
        self.asleep, self.warm = True, False
        self._cleared.set()
        self._kick()

    def reset_counters(self) -> None:
        self.counters.reset()
        self._notify()

    def set_save_every(self, n: int) -> None:
        if n < 1:
            raise SimError("bad-request", "counter_save_every must be at least 1")
        self.faults.counter_save_every = n
        self.counters.resave(n)

    def apply_profiles(self, names: list[str] | tuple[str, ...]) -> None:
        """Behave like the quirk profiles named (simulator.profiles), replacing the last
        selection; ProfileError names an unknown or contradicting profile."""
        selection = combine(names)
        self.profiles, self.quirks = selection, selection.quirks
        self.faults.ipp_counters = bool(selection.device.get("ipp_counters", True))
        self._notify()

    # ----- listeners -----------------------------------------------------------

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()

    def _kick(self) -> None:
        self._wake.set()
        self._notify()

    # ----- the engine loop -----------------------------------------------------

    def _next_job(self) -> SimJob | None:
        if self.faults.offline or self.faults.jammed or self.faults.paper_out:
            return None
        if self._copies:
            return self._copies.popleft()
        for job in self.jobs.values():
            if job.origin == "ipp" and job.state == JobState.PENDING and not job.awaiting_document:
                return job
        return None

    async def run(self) -> None:
        """Forever: take the next job, warm up if needed, print it; sleep when idle long."""
        while True:
            job = self._next_job()
            if job is None:
                self._wake.clear()
                idle_for = time.monotonic() - self._last_active
                remaining = self.config.sleep_after_s - idle_for
                if not self.asleep and remaining <= 0:
                    log.info("idle for %.0f s: going to sleep", idle_for)
                    self.asleep, self.warm = True, False
                    self._notify()
                    remaining = 3600.0
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(remaining, 0.05))
                except TimeoutError:
                    pass
                continue
            await self._print(job)
            self._last_active = time.monotonic()

    async def _warm_up(self) -> None:
        if self.warm and not self.asleep:
            return
        self.asleep = False
        self.state = PrinterState.PROCESSING
        self._notify()
        await asyncio.sleep(self.config.warmup_s)
        self.warm = True

    async def _print(self, job: SimJob) -> None:
        self.current = job
        job.state = JobState.PROCESSING
        job.reasons = ["job-printing"]
        job.processing_at = job.processing_at or time.time()
        self.state = PrinterState.PROCESSING
        self._notify()
        try:
            await self._warm_up()
            await self._print_pages(job)
        finally:
            self.current = None
            self.state = PrinterState.IDLE
            self._notify()

    async def _print_pages(self, job: SimJob) -> None:
        while not job.state.terminal:
            if job.cancel_requested:
                self._finish(job, JobState.CANCELED, [job.cancel_reason])
                return
            if job.impressions_completed >= job.impressions:
                self._finish(job, JobState.COMPLETED, ["job-completed-successfully"])
                return
            if job.origin == "ipp":
                await self._run_interrupting_copies()
            await asyncio.sleep(self.config.page_seconds)
            if job.cancel_requested:
                continue
            self.counters.mark(job.color, self.faults.counter_save_every,
                               copy=job.origin == "copy")
            job.impressions_completed += 1
            self._notify()
            await self._after_page(job)

    async def _run_interrupting_copies(self) -> None:
        """Walk-up copies interrupt a print job between pages, as on a real MFD."""
        while self._copies:
            copy = self._copies.popleft()
            outer = self.current
            await self._print(copy)
            self.current = outer
            self.state = PrinterState.PROCESSING

    async def _after_page(self, job: SimJob) -> None:
        done = job.impressions_completed
        faults = job.faults
        if faults.cancel_at is not None and done == faults.cancel_at:
            faults.cancel_at = None
            self._finish(job, JobState.CANCELED, ["job-canceled-at-device"])
            return
        if faults.jam_at is not None and done == faults.jam_at:
            faults.jam_at = None
            self.faults.jammed = True
            await self._stopped(job, "media-jam-error")
            if job.state.terminal:
                return
            if faults.jam_then == "abort":
                self._finish(job, JobState.ABORTED, ["aborted-by-system"])
            return
        more = done < job.impressions
        if faults.paper_out_at is not None and done == faults.paper_out_at and more:
            faults.paper_out_at = None
            self.faults.paper_out = True
            await self._stopped(job, "media-empty-error")

    async def _stopped(self, job: SimJob, reason: str) -> None:
        """processing-stopped until the operator clears the fault (or the job is canceled)."""
        log.info("job %d stopped at impression %d: %s", job.id, job.impressions_completed, reason)
        job.state = JobState.PROCESSING_STOPPED
        job.reasons = ["printer-stopped", reason]
        self.state = PrinterState.STOPPED
        self._notify()
        while (self.faults.jammed or self.faults.paper_out) and not job.state.terminal:
            self._cleared.clear()
            await self._cleared.wait()
        if not job.state.terminal:
            job.state = JobState.PROCESSING
            job.reasons = ["job-printing"]
            self.state = PrinterState.PROCESSING
            self._notify()

    def _finish(self, job: SimJob, state: JobState, reasons: list[str]) -> None:
        job.state = state
        job.reasons = reasons
        job.completed_at = time.time()
        log.info("job %d %s after %d of %d impressions", job.id, state.name.lower(),
                 job.impressions_completed, job.impressions)
        self._notify()

    # ----- ground truth --------------------------------------------------------

    def truth(self) -> dict[str, object]:
        c = self.counters
        return {
            "printer": {
                "state": self.printer_state.name.lower(),
                "state_reasons": self.state_reasons,
                "asleep": self.asleep,
                "console": self.console_text,
                "current_job": self.current.id if self.current else None,
            },
            "counters": {
                "true_total": c.true_total,
                "true_mono": c.true_mono,
                "true_color": c.true_color,
                "reported_life": c.reported_life,
                "ipp_total": c.ipp_total,
                "power_on": c.power_on,
            },
            "faults": {
                "snmp": self.faults.snmp,
                "asleep_snmp": self.faults.asleep_snmp,
                "offline": self.faults.offline,
                "counter_save_every": self.faults.counter_save_every,
                "jammed": self.faults.jammed,
                "paper_out": self.faults.paper_out,
                "ipp_counters": self.faults.ipp_counters,
                "clock_offset": self.faults.clock_offset,
                "snmp_drop_gets": self.faults.snmp_drop_gets,
                "refuse_release": self.faults.refuse_release,
            },
            "profiles": list(self.profiles.names),
            "agent_snmp_profile": self.profiles.agent_snmp_profile,
            "split_counters": dict(c.split),
            "jobs": [j.to_json() for j in self.jobs.values()],
        }
