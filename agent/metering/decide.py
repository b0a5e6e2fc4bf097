"""Decide how many impressions a job really printed, from the device's own evidence.

Pure functions: the follower gathers evidence, this module judges it. Keeping the judgement
free of I/O makes every rule testable on its own and replayable from stored evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REVIEW_NOTE_CONFLICT = "counter delta {delta} and IPP job count {ipp} disagree"


@dataclass(frozen=True)
class CounterReading:
    """One counter, read before release and after the job, with its width (None: no wrap)."""

    before: int | None
    after: int | None
    bits: int | None = 32
    saves_every: int = 1


@dataclass(frozen=True)
class Delta:
    value: int | None
    problem: str | None = None
    reset: bool = False
    granular: bool = False


@dataclass(frozen=True)
class Evidence:
    estimate: int
    job_state: str
    job_reasons: tuple[str, ...] = ()
    ipp_job_count: int | None = None
    snmp: CounterReading = CounterReading(None, None)
    ipp_printer: CounterReading = CounterReading(None, None, bits=None)
    interleaved: tuple[str, ...] = ()
    stops: tuple[tuple[str, int], ...] = ()
    unsettled: str | None = None


@dataclass(frozen=True)
class Decision:
    printed: int
    review: bool
    source: str
    reason: str
    at_page: int | None = None
    review_note: str | None = None
    deltas: dict[str, int | None] = field(default_factory=dict)


def counter_delta(reading: CounterReading, estimate: int) -> Delta:
    """Pages between two readings, handling Counter32 wrap; a fall is a reset."""
    before, after = reading.before, reading.after
    if before is None or after is None:
        return Delta(None, "counter unknown before or after the job")
    granular = reading.saves_every > 1
    if after >= before:
        return Delta(after - before, granular=granular)
    if reading.bits is not None:
        wrapped = after + 2**reading.bits - before
        if wrapped <= 2 * estimate + reading.saves_every + 10:
            return Delta(wrapped, granular=granular)
    return Delta(None, f"counter went down from {before} to {after}: reset", reset=True)


def _agrees(delta: Delta, ipp: int, saves_every: int) -> bool:
    assert delta.value is not None
    if delta.granular:
        return abs(delta.value - ipp) < saves_every
    return delta.value == ipp


def refund_reason(ev: Evidence, printed: int) -> tuple[str, int | None]:
    """The reason code shown beside a refund, and the page where it happened."""
    reasons = set(ev.job_reasons)
    if printed == 0 and ev.job_state in {"canceled", "aborted"}:
        return "never-started", None
    if "job-canceled-at-device" in reasons:
        return "canceled-at-device", printed
    if ev.job_state == "canceled":
        return "canceled-by-user", printed
    if ev.job_state == "aborted":
        for kind, at in ev.stops:
            if kind in {"jam", "paper-out"}:
                return kind, at
        return "aborted", printed
    return "completed", None


def decide(ev: Evidence) -> Decision:
    snmp = counter_delta(ev.snmp, ev.estimate)
    ippc = counter_delta(ev.ipp_printer, ev.estimate)
    deltas = {"snmp": snmp.value, "ipp_printer": ippc.value}
    ipp = ev.ipp_job_count

    def result(printed: int, source: str, note: str | None = None) -> Decision:
        review = note is not None
        charged = ev.estimate if review else printed
        reason, at = refund_reason(ev, charged)
        return Decision(charged, review, source, reason, at, note, deltas)

    if ev.unsettled:
        return result(ev.estimate, "estimate", ev.unsettled)
    resets = [d.problem for d in (snmp, ippc) if d.reset]
    if resets:
        return result(ev.estimate, "estimate", "; ".join(str(p) for p in resets))
    trusted = [] if ev.interleaved else [d for d in (snmp, ippc) if d.value is not None]
    exact = [d for d in trusted if not d.granular]
    if ipp is not None and trusted:
        saves_every = ev.snmp.saves_every
        if all(_agrees(d, ipp, saves_every) for d in trusted):
            return result(ipp, "counter+ipp")
        delta = (exact or trusted)[0].value
        return result(ev.estimate, "estimate", REVIEW_NOTE_CONFLICT.format(delta=delta, ipp=ipp))
    if ipp is not None:
        return result(ipp, "ipp")
    if exact:
        values = {d.value for d in exact}
        if len(values) == 1:
            return result(values.pop() or 0, "counter")
        return result(ev.estimate, "estimate", f"counters disagree: {sorted(values)}")
    if ev.interleaved:
        note = "another job printed during this one and the device gave no per-job count: "
        return result(ev.estimate, "estimate", note + ", ".join(ev.interleaved))
    return result(ev.estimate, "estimate", "no trustworthy page count from the device")
