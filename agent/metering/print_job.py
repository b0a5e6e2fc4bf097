"""A print job's evidence: the held job released, the device job followed, the counters
and IPP weighed.

Everything IPP about metering a print job sits here, behind the session life's
`SessionEvidence` (agent/session/life.py): the snapshot before the release, finding the
device job the release printed as, following it until the counters are still, and the
decision from the counters' delta and the job's own count (`decide.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from agent.api.methods import JOB_RESULT, Notify
from agent.api.payloads import JobStatus
from agent.ledger import Ledger
from agent.ledger.models import JobRow
from agent.metering.crashpoint import crashpoint
from agent.metering.decide import CounterReading, Decision, Evidence, decide, settled_early
from agent.metering.follower import (
    FollowLimits,
    FollowResult,
    Progress,
    follow,
)
from agent.metering.history import Metered, created_key, interleaved_jobs
from agent.metering.holdqueue import HoldQueue
from agent.metering.poller import PrinterPoller
from agent.metering.probe import DeviceProbe, Reading
from agent.metering.status import job_status
from agent.pricing import PriceTable
from drivers.ipp.client import IppError
from drivers.ipp.models import JobInfo

log = logging.getLogger("pagetally.metering")


# Decisions another job in the window cannot change: the per-job count is used either way
# (when the counter delta agrees with it, nothing else printed in the window).
WINDOW_IRRELEVANT = frozenset({"counter+ipp", "ipp"})


@dataclass(frozen=True)
class MeterSettings:
    idle_polls: int = 3
    settle_timeout: float = 120.0
    stall_timeout: float = 600.0
    counter_bits: int = 32
    saves_every: int = 1
    retry_interval: float = 1.0
    refused_tries: int = 3
    give_up_after: float = 600.0


@dataclass(frozen=True)
class Opened:
    """A released job, as the life follows it."""

    row: JobRow
    queued: JobInfo
    """The job in the hold queue, as read when the life (re)started following it."""


class PrintJobEvidence:
    """The evidence of print jobs on one printer, metered one at a time (`Meter`)."""

    def __init__(self, *, ledger: Ledger, queue: HoldQueue, probe: DeviceProbe,
                 poller: PrinterPoller, prices: PriceTable, settings: MeterSettings,
                 notify: Notify) -> None:
        self.ledger = ledger
        self.queue = queue
        self.probe = probe  # the snapshot before a release, read as a pair on demand
        self.poller = poller  # every reading while following
        self.prices = prices
        self.settings = settings
        self.notify = notify
        self.progress: dict[str, Progress] = {}
        self.cancel: set[str] = set()
        """Jobs the user cancelled: before the release it does not happen, after it the
        device job is cancelled."""
        self._ended_before: list[Metered] = []
        """Device jobs the last listing of the printer's jobs showed ended: in no later
        window. Without it, a walk-up copy with no times (or whole seconds of up-time)
        counted in every later job's window, and sent each to review."""

    def left_open(self) -> list[str]:
        return [row.job_key for row in self.ledger.unfinished()]

    async def opened(self, key: str) -> Opened | None:
        row = self.ledger.job(key)
        queued = await self.queue.queue_job(row.queue_job_id)
        if row.state == "snapshotting":
            if not await self._release(row, queued):
                return None
            row = self.ledger.job(key)
        return Opened(row, queued)

    async def settle(self, session: Opened, followed: FollowResult) -> None:
        await self._settle(session.row, followed)

    async def give_up(self, job_key: str, exc: Exception) -> None:
        """The printer cannot tell us about this job: stop waiting, so the next job can go.
        Never released: nothing was charged and nothing is. Released: the job goes to
        review, charged from what the counters show since its snapshot."""
        row = self.ledger.job(job_key)
        if row.state == "snapshotting":
            log.warning("job %s: not released, giving up: %s", job_key, exc)
            self.ledger.abandon(job_key, f"The printer would not release the job ({exc})")
            self._publish_result(job_key)
            return
        log.warning("job %s: giving up on following it: %s; it goes to review", job_key, exc)
        note = f"the printer could no longer tell about the job ({exc})"
        await self._settle(row, FollowResult(None, await self.probe.read(), unsettled=note))

    async def _release(self, row: JobRow, queued: JobInfo) -> bool:
        """Snapshot, release, charge. A crash after the IPP release is caught on resume:
        the job is no longer held, so we charge without releasing again."""
        if queued.state.name.lower() == "pending_held":
            if row.job_key in self.cancel:
                await self.queue.cancel(row.queue_job_id)
                self.ledger.abandon(row.job_key, "canceled before release")
                self._publish_result(row.job_key)
                return False
            reading = await self.probe.snapshot()
            self.ledger.add_evidence(row.job_key, "snapshot", reading.to_json())
            crashpoint("snapshot")
            await self.queue.release(row.queue_job_id)
            crashpoint("release")
        elif queued.terminal and not self._snapshot(row.job_key):
            self.ledger.abandon(row.job_key, f"job was {queued.state.name.lower()} "
                                             "before it was released")
            self._publish_result(row.job_key)
            return False
        self.ledger.mark_released(row.job_key, {"released_at": datetime.now(UTC).isoformat()})
        crashpoint("charge")
        return True

    def _snapshot(self, job_key: str) -> dict[str, Any] | None:
        found = [e.data for e in self.ledger.evidence(job_key) if e.step == "snapshot" and e.data]
        return found[-1] if found else None

    def _window_start(self, job_key: str) -> datetime:
        """The snapshot's time on the device's clock: anything the device printed after it
        is in our window. Its job times are on that clock, and printers' are often wrong."""
        snap = self._snapshot(job_key)
        if snap is None:
            return datetime.now(UTC)
        offset = snap.get("clock_offset")
        if offset is None:
            offset = self._clock_offset(job_key)
        return datetime.fromtimestamp(snap["at"] + (offset or 0.0), UTC)

    def _clock_offset(self, job_key: str) -> float | None:
        """The device clock's offset as last read, else as read at the job's snapshot."""
        if self.probe.clock_offset is not None:
            return self.probe.clock_offset
        offset = (self._snapshot(job_key) or {}).get("clock_offset")
        return None if offset is None else float(offset)

    async def follow(self, session: Opened, shown: Callable[[JobStatus], None]
                     ) -> FollowResult:
        row, queued = session.row, session.queued
        released_at = self._window_start(row.job_key)

        def on_progress(p: Progress) -> None:
            self.progress[row.job_key] = p
            shown(self.status(row.job_key))
            if p.printed:
                crashpoint("follow")

        def agrees(job: JobInfo, reading: Reading) -> bool:
            """The counters' delta and the job's own count (or its size, for a job that
            completed successfully) already say the same."""
            latest = self.ledger.job(row.job_key)  # with its device job's match, if any
            evidence = self._evidence(latest, FollowResult(job, reading))
            return settled_early(evidence, job.impressions)

        st = self.settings
        limits = FollowLimits(st.idle_polls, st.settle_timeout, st.stall_timeout)
        with self.poller.fast():
            return await follow(self.queue, self.poller, queued,
                                lambda: self._locate(row.job_key, queued, released_at),
                                limits=limits, on_progress=on_progress,
                                should_cancel=lambda: row.job_key in self.cancel,
                                agrees=agrees)

    async def _locate(self, job_key: str, queued: JobInfo, released_at: datetime
                      ) -> JobInfo | None:
        """The device job this release printed as. The match is in the ledger as soon as it
        is made, so a restarted agent follows the same job, and no later release can take
        it: the same document released twice is never metered from the other copy."""
        row = self.ledger.job(job_key)
        if row.device_job_id is not None:
            return await self.queue.printer.job(row.device_job_id)
        claimed = self.ledger.claimed_device_jobs(row.printer, but=job_key)
        match = await self.queue.match_device_job(queued, released_at, claimed)
        if match is None:
            return None
        self.ledger.match_device_job(job_key, match.job.id, created_key(match.job),
                                     match.doubt)
        if any(m.id >= match.job.id for m in self._ended_before):
            self._ended_before = []  # job ids may have started again (a power cycle)
        if match.doubt:
            log.warning("job %s: %s; it goes to review", job_key, match.doubt)
        return match.job

    async def _interleaved(self, row: JobRow, result: FollowResult) -> list[str]:
        """Other jobs in our window. Listing them costs two Get-Jobs, so they are asked only
        when the answer can change the decision."""
        own = result.job.id if result.job else (row.device_job_id or row.queue_job_id)
        metered = [Metered(*m) for m in self.ledger.settled_device_jobs(row.printer)]
        ended: list[Metered] = []
        try:
            until = time.time() + (self._clock_offset(row.job_key) or 0.0)
            found = await interleaved_jobs(self.queue.printer, own,
                                           self._window_start(row.job_key),
                                           datetime.fromtimestamp(until, UTC),
                                           [*metered, *self._ended_before], ended=ended)
            self._ended_before = ended
            return found
        except IppError as exc:  # unknown is not "none": the counters cannot be trusted
            log.warning("job %s: cannot list the printer's jobs (%s)", row.job_key, exc)
            return [f"unknown: the printer's job list could not be read ({exc})"]

    async def _settle(self, row: JobRow, result: FollowResult) -> None:
        row = self.ledger.job(row.job_key)  # with its device job, matched while following
        evidence = self._evidence(row, result)
        decision = decide(evidence)
        if decision.source not in WINDOW_IRRELEVANT:
            result.interleaved = await self._interleaved(row, result)
            evidence = replace(evidence, interleaved=tuple(result.interleaved))
            decision = decide(evidence)
        cost = row.estimate if decision.at_estimate else self.prices.cost(
            decision.printed, color=row.color, duplex=row.duplex, media=row.media)
        self.ledger.settle(row.job_key, printed=decision.printed, actual_cost=cost,
                           reason=decision.reason, review=decision.review,
                           review_note=decision.review_note,
                           evidence=_evidence_json(evidence, decision, result,
                                                   self._clock_offset(row.job_key)))
        crashpoint("settle")
        log.info("job %s settled: %d of %d impressions (%s)%s", row.job_key, decision.printed,
                 row.impressions, decision.source, " REVIEW" if decision.review else "")
        self._publish_result(row.job_key)

    def _evidence(self, row: JobRow, result: FollowResult) -> Evidence:
        snap = self._snapshot(row.job_key) or {}
        job = result.job
        return Evidence(
            estimate=row.impressions,
            job_state=job.state.name.lower() if job else "unknown",
            job_reasons=tuple(job.state_reasons) if job else (),
            ipp_job_count=job.impressions_completed if job else None,
            snmp=CounterReading(snap.get("snmp_life"), result.last.snmp_life,
                                bits=self.settings.counter_bits,
                                saves_every=self.settings.saves_every),
            ipp_printer=CounterReading(snap.get("ipp_total"), result.last.ipp_total, bits=None),
            interleaved=tuple(result.interleaved),
            stops=tuple(result.stops),
            unsettled=result.unsettled,
            stalled=result.stalled,
            doubt=row.match_doubt,
            deposit=row.impressions == 0 and row.estimate > 0,  # 0 pages cost 0: a deposit
        )

    def _publish_result(self, job_key: str) -> None:
        self.progress.pop(job_key, None)
        self.cancel.discard(job_key)
        self.notify(JOB_RESULT, self.status(job_key))

    def status(self, job_key: str) -> JobStatus:
        return job_status(self.ledger, job_key, self.progress.get(job_key))


def _evidence_json(ev: Evidence, decision: Decision, result: FollowResult,
                   clock_offset: float | None) -> dict[str, Any]:
    return {
        "job_state": ev.job_state,
        "job_reasons": list(ev.job_reasons),
        "ipp_job_count": ev.ipp_job_count,
        "snmp": [ev.snmp.before, ev.snmp.after],
        "ipp_printer": [ev.ipp_printer.before, ev.ipp_printer.after],
        "deltas": decision.deltas,
        "interleaved": list(ev.interleaved),
        "stops": [list(s) for s in ev.stops],
        "source": decision.source,
        "device_job": result.job.id if result.job else None,
        "match_doubt": ev.doubt,
        "problems": list(result.last.problems),
        "device_clock_offset_s": clock_offset,
    }

