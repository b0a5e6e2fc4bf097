"""Follow a released job until the device has finished with it and its counters are still."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from agent.metering.holdqueue import HoldQueue
from agent.metering.probe import Reading
from drivers.ipp.client import IppError, IppRefused
from drivers.ipp.models import JobInfo

log = logging.getLogger("pagetally.metering")

STOP_REASONS = {"media-jam-error": "jam", "media-empty-error": "paper-out",
                "media-needed-error": "paper-out", "media-empty": "paper-out"}


@dataclass
class Progress:
    """What the panel shows while a job prints."""

    printed: int = 0
    total: int = 0
    state: str = "releasing"
    stopped_for: str | None = None


@dataclass
class FollowResult:
    job: JobInfo | None
    """The device job as last seen; None when the device never told us about it."""
    last: Reading
    stops: list[tuple[str, int]] = field(default_factory=list)
    interleaved: list[str] = field(default_factory=list)
    unsettled: str | None = None
    stalled: bool = False
    """We cancelled the job because it made no progress: the device then calls it
    canceled by the user, which the user did not do."""


@dataclass(frozen=True)
class FollowLimits:
    idle_polls: int
    settle_timeout: float
    stall_timeout: float


class Readings(Protocol):
    """The printer's readings, as the poller gives them (agent.metering.poller)."""

    async def next(self, soon: bool = False) -> Reading: ...
    async def midway(self) -> None: ...


def _printing_state(job: JobInfo) -> str:
    name = job.state.name.lower()
    if name == "processing_stopped":
        return "stopped"
    if name == "processing":
        return "printing"
    return "queued" if name in {"pending", "pending_held"} else name


async def follow(
    queue: HoldQueue,
    readings: Readings,
    queued: JobInfo,
    locate: Callable[[], Awaitable[JobInfo | None]],
    limits: FollowLimits,
    on_progress: Callable[[Progress], None],
    should_cancel: Callable[[], bool],
    agrees: Callable[[JobInfo, Reading], bool] = lambda _job, _reading: False,
) -> FollowResult:
    """Poll until the device job is terminal and the printer idle for `idle_polls` readings
    with unchanged counters, as PyKota does, but at sub-second polls.

    `locate` finds the device job the release printed as (None until it appears). While
    the printer is printing it is asked midway between two readings, and right after a
    reading that shows the printer no longer printing: the end is seen within half a cadence.
    `readings` gives the printer's next reading, at the poller's cadence, or soon once the
    device job has ended: waiting a whole cadence per quiet reading made the end take 0.6 s
    to confirm. The rule is the same at either pace: a reading is quiet only when the
    printer is idle and the counters equal the reading before, begun at least the poller's
    SETTLE_S earlier, and it takes `idle_polls` quiet readings in a row. When the evidence
    already agrees (`agrees`: the counters' delta equals the job's own count), one quiet
    poll is enough: two sources that agree on a counter that stopped are not still moving.
    A job with no progress for `stall_timeout` is cancelled at the device (it then settles
    for what printed); counters that never settle within `settle_timeout` of the job's end
    send it to review."""
    progress = Progress(total=queued.impressions or 0)
    stops: list[tuple[str, int]] = []
    still, previous = 0, None
    device_job: JobInfo | None = None
    cancel_sent = stall_cancel = False
    changed_at = time.monotonic()
    ended_at = forwarded_at = None
    while True:
        if device_job is None or not device_job.terminal:  # an ended job changes no more
            device_job = await _device_job(locate, queued) or device_job
        reading = await readings.next(device_job is not None and device_job.terminal)
        job = device_job or await queue.queue_job(queued.id)
        now = time.monotonic()
        stalled = now - changed_at > limits.stall_timeout
        if stalled and not cancel_sent and not job.terminal:
            log.warning("job %d: no progress for %.0f s; cancelling it at the printer",
                        queued.id, limits.stall_timeout)
        if (should_cancel() or stalled) and not cancel_sent and not job.terminal:
            await _cancel(queue, queued, device_job)
            cancel_sent, stall_cancel = True, not should_cancel()
        done = job.impressions_completed or 0
        stop = next((STOP_REASONS[r] for r in (*job.state_reasons, *reading.reasons)
                     if r in STOP_REASONS), None)
        if stop and (not stops or stops[-1] != (stop, done)) and not job.terminal:
            stops.append((stop, done))
        state = _printing_state(job)
        if (done, state, stop) != (progress.printed, progress.state, progress.stopped_for):
            changed_at = now
            progress.printed, progress.state, progress.stopped_for = done, state, stop
            progress.total = job.impressions or progress.total
            on_progress(progress)
        reached_device = device_job is not None or job.state.name.lower() != "completed"
        if job.terminal and not reached_device:  # CUPS sent it on; the printer must list it
            forwarded_at = forwarded_at or now
            if now - forwarded_at > limits.settle_timeout:
                note = (f"the print queue sent the job on, but the printer did not list it "
                        f"within {limits.settle_timeout:.0f} s")
                return FollowResult(None, reading, stops, unsettled=note)
        if job.terminal and reached_device:
            ended_at = ended_at or now
            quiet = reading.idle and previous is not None and (
                reading.counters() == previous.counters())
            still = still + 1 if quiet else 0
            if still >= limits.idle_polls or (still >= 1 and agrees(job, reading)):
                return FollowResult(job, reading, stops, stalled=stall_cancel)
            if now - ended_at > limits.settle_timeout:
                note = f"counters did not settle within {limits.settle_timeout:.0f} s"
                return FollowResult(job, reading, stops, unsettled=note,
                                    stalled=stall_cancel)
        previous = reading
        if not reading.idle and not job.terminal:
            await readings.midway()


async def _device_job(locate: Callable[[], Awaitable[JobInfo | None]], queued: JobInfo
                      ) -> JobInfo | None:
    """The device job, or None this time if the printer did not answer. A refusal (the
    printer no longer knows the job) is raised: following a stale copy would never end."""
    try:
        return await locate()
    except IppRefused:
        raise
    except IppError as exc:
        log.warning("job %d: cannot read the job from the printer: %s", queued.id, exc)
        return None


async def _cancel(queue: HoldQueue, queued: JobInfo, device_job: JobInfo | None) -> None:
    """Stop the job where it is (the user pressed cancel, or it stalled); sent once only."""
    try:
        if device_job is not None:
            await queue.printer.cancel(device_job.id)
        else:
            await queue.cancel(queued.id)
    except IppError as exc:
        log.warning("job %d: cancel refused: %s", queued.id, exc)
