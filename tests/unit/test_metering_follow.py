"""The follower's settle rule on scripted device answers: when a job's counters count as still.

The follower is logic between two sources, the device job (locate) and the printer's
readings; here both are scripted, as decide's tests script evidence, so a counter that keeps
moving after the job has ended (which the simulator never does) can be shown.
"""

from __future__ import annotations

from agent.metering.follower import FollowLimits, FollowResult, follow
from agent.metering.holdqueue import DeviceHoldQueue
from agent.metering.probe import Reading
from drivers.ipp.client import IppClient
from drivers.ipp.models import JobInfo
from drivers.ipp.tags import JobState

LIMITS = FollowLimits(idle_polls=3, settle_timeout=120.0, stall_timeout=600.0)


def job(state: JobState, done: int) -> JobInfo:
    return JobInfo(id=7, name="report.pdf", user="alice", state=state, state_reasons=(),
                   impressions=5, impressions_completed=done, sheets_completed=None,
                   copies=1, sides="one-sided", color=False, media=None, hold_until=None,
                   created_at=None, processing_at=None, completed_at=None)


def reading(count: int, printing: bool) -> Reading:
    return Reading(snmp_life=count, ipp_total=None,
                   printer_state="processing" if printing else "idle",
                   snmp_status="printing" if printing else "idle", reasons=(), problems=(),
                   at=0.0)


class Device:
    """One scripted step per poll: the job as the printer would report it, and the reading.
    Records whether each reading was asked for soon, how often the job was asked for, and
    after which readings the follower waited to ask midway to the next one."""

    def __init__(self, steps: list[tuple[JobInfo, Reading]]) -> None:
        self.steps = steps
        self.soon: list[bool] = []
        self.reads = self.locates = 0
        self.midway_after: list[int] = []

    async def locate(self) -> JobInfo:
        self.locates += 1
        return self.steps[self.reads][0]

    async def next(self, soon: bool = False) -> Reading:
        self.soon.append(soon)
        self.reads += 1
        return self.steps[self.reads - 1][1]

    async def midway(self) -> None:
        self.midway_after.append(self.reads)


async def run(device: Device, agrees: bool = False) -> FollowResult:
    queued = job(JobState.PENDING, 0)
    # Never asked: locate always finds the device job, and nothing is cancelled.
    queue = DeviceHoldQueue(IppClient("ipp://127.0.0.1:9/ipp/print"))
    return await follow(queue, device, queued, device.locate, LIMITS,
                        on_progress=lambda _p: None, should_cancel=lambda: False,
                        agrees=lambda _j, _r: agrees)


async def test_a_counter_still_moving_after_the_job_ended_is_waited_for() -> None:
    """The printer says the job completed and is idle, but its counter catches up two
    readings later: the follower settles only after three readings with it still."""
    done = job(JobState.COMPLETED, 5)
    device = Device([(job(JobState.PROCESSING, 2), reading(102, True)),
                     (done, reading(103, False)), (done, reading(104, False)),
                     (done, reading(105, False)), (done, reading(105, False)),
                     (done, reading(105, False)), (done, reading(105, False)),
                     (done, reading(106, False))])
    result = await run(device)
    assert (result.last.snmp_life, device.reads) == (105, 7)
    assert result.unsettled is None


async def test_readings_are_asked_for_soon_once_the_device_job_has_ended() -> None:
    """While the job prints, readings come at the poller's cadence; once the device job is
    terminal, sooner, as the end is only waiting to be confirmed."""
    done = job(JobState.COMPLETED, 5)
    device = Device([(job(JobState.PENDING, 0), reading(100, False)),
                     (job(JobState.PROCESSING, 3), reading(103, True)),
                     (done, reading(105, False)), (done, reading(105, False)),
                     (done, reading(105, False)), (done, reading(105, False))])
    result = await run(device)
    assert device.soon == [False, False, True, True, True, True]
    assert result.last.snmp_life == 105
    assert device.locates == 3  # a job that has ended is not asked about again


async def test_the_job_is_asked_about_midway_while_it_prints_and_at_once_after() -> None:
    """Midway between readings while the printer prints; right after a reading that shows
    it idle (the job may just have ended), as waiting there would only delay seeing it."""
    done = job(JobState.COMPLETED, 5)
    device = Device([(job(JobState.PENDING, 0), reading(100, False)),
                     (job(JobState.PROCESSING, 1), reading(101, True)),
                     (job(JobState.PROCESSING, 3), reading(103, True)),
                     (job(JobState.PROCESSING, 5), reading(105, False)),
                     (done, reading(105, False)), (done, reading(105, False)),
                     (done, reading(105, False))])
    result = await run(device)
    assert device.midway_after == [2, 3]
    assert device.soon == [False, False, False, False, True, True, True]
    assert result.last.snmp_life == 105


async def test_agreeing_evidence_still_needs_one_reading_with_the_counter_still() -> None:
    """Agreement shortens the wait to one quiet reading, never to none: the first reading
    after the end moved the counter, so the next one is the earliest to settle on."""
    done = job(JobState.COMPLETED, 5)
    device = Device([(job(JobState.PROCESSING, 3), reading(103, True)),
                     (done, reading(105, False)), (done, reading(105, False)),
                     (done, reading(106, False))])
    result = await run(device, agrees=True)
    assert (result.last.snmp_life, device.reads) == (105, 3)
