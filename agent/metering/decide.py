"""Decide how many impressions a job really printed, from the device's own evidence.

Pure functions: the follower gathers evidence, this module judges it. Keeping the judgement
free of I/O makes every rule testable on its own and replayable from stored evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SNMP_LABEL = "SNMP counter delta"
IPP_PRINTER_LABEL = "IPP printer counter delta"
IPP_JOB_LABEL = "IPP job count"


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
    doubt: str | None = None
    """Why the device job may not be this release's (CUPS matching): its count is then
    not charged from, and the job goes to review."""
    deposit: bool = False
    """Nobody counted the job's pages (`estimate` is 0): a deposit was held at release."""
    stalled: bool = False
    """The agent cancelled the job after it made no progress: not the user's doing."""


@dataclass(frozen=True)
class Decision:
    printed: int
    review: bool
    source: str
    reason: str
    at_page: int | None = None
    review_note: str | None = None
    deltas: dict[str, int | None] = field(default_factory=dict)
    at_estimate: bool = False
    """A review with no trusted count: the job keeps what was charged at release (for a job
    whose pages nobody counted, the deposit), not the price of `printed`."""


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
    if ev.job_state == "canceled" and not ev.stalled:
        return "canceled-by-user", printed
    if ev.job_state in ("aborted", "canceled", "unknown"):
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

    def result(printed: int, source: str) -> Decision:
        reason, at = refund_reason(ev, printed)
        return Decision(printed, False, source, reason, at, None, deltas)

    def review(problem: str) -> Decision:
        """Charged from the best evidence the device gave, never less than it shows."""
        counts = review_counts(ev, snmp, ippc)
        if counts:
            charged = max(counts.values())
            basis = (f"charged {_pages(charged)}, the largest of the trusted counts"
                     if len(counts) > 1 else f"charged {_pages(charged)}, the only trusted count")
        else:
            charged = ev.estimate
            basis = ("kept the deposit held at release, as nobody counted the job's pages"
                     if ev.deposit else f"charged the estimate of {_pages(charged)}")
        reason, at = refund_reason(ev, charged)
        note = f"{problem}. Compared: {figures(ev, snmp, ippc)}; {basis}"
        return Decision(charged, True, "review", reason, at, note, deltas, not counts)

    if ev.unsettled:
        return review(ev.unsettled)
    if ev.doubt:
        return review(ev.doubt)
    resets = [name for name, d in (("SNMP", snmp), ("IPP printer", ippc)) if d.reset]
    if resets:  # the figures below say from what to what: one sentence, not one per counter
        which = "both page counters were" if len(resets) == 2 else f"the {resets[0]} counter was"
        return review(f"{which} reset during the job")
    trusted = [] if ev.interleaved else [d for d in (snmp, ippc) if d.value is not None]
    exact = [d for d in trusted if not d.granular]
    if ipp is not None and trusted:
        saves_every = ev.snmp.saves_every
        if all(_agrees(d, ipp, saves_every) for d in trusted):
            return result(ipp, "counter+ipp")
        return review("the counters and the IPP job count disagree")
    if ipp is not None:
        return result(ipp, "ipp")
    if exact:
        values = {d.value for d in exact}
        if len(values) == 1:
            return result(values.pop() or 0, "counter")
        return review("the two counters disagree")
    if ev.interleaved:
        return review("another job printed during this one and the device gave no per-job "
                      "count: " + ", ".join(dict.fromkeys(ev.interleaved)))
    return review("no trustworthy page count from the device")


def settled_early(ev: Evidence, job_impressions: int | None) -> bool:
    """Does the evidence already agree, so one reading with the counters still is enough to
    settle on? The counters' delta equals the job's own count; or, on a printer that gives no
    per-job count, the job completed successfully and the delta is exactly the impressions it
    asked for. A counter still moving (short of the job) or pages of another job (past it)
    do not agree, and wait for `idle_polls` readings as before."""
    decision = decide(ev)
    if decision.source == "counter+ipp":
        return True
    return (decision.source == "counter" and ev.job_state == "completed"
            and "job-completed-successfully" in ev.job_reasons
            and job_impressions is not None and decision.printed == job_impressions)


def review_counts(ev: Evidence, snmp: Delta, ippc: Delta) -> dict[str, int]:
    """The counts a review may charge from: the per-job count (unless the device job may be
    another's), and the exact counter deltas unless they were reset or another job shared
    the window (then they hold pages not ours).
    A counter saved every N pages is only near the truth, so it is not charged from."""
    counts = {} if ev.interleaved else {
        label: d.value for label, d in ((SNMP_LABEL, snmp), (IPP_PRINTER_LABEL, ippc))
        if d.value is not None and not d.granular}
    if ev.ipp_job_count is not None and not ev.doubt:
        counts[IPP_JOB_LABEL] = ev.ipp_job_count
    return counts


def figures(ev: Evidence, snmp: Delta, ippc: Delta) -> str:
    """Every number the decision compared, each named, for the person who reviews it."""
    parts = [f"{label} {_delta_text(reading, d)}" for label, reading, d in
             ((SNMP_LABEL, ev.snmp, snmp), (IPP_PRINTER_LABEL, ev.ipp_printer, ippc))]
    job = "not reported" if ev.ipp_job_count is None else str(ev.ipp_job_count)
    if ev.doubt and ev.ipp_job_count is not None:
        job += " (of a device job that may be another's)"
    parts.append(f"{IPP_JOB_LABEL} {job}")
    if ev.interleaved:
        parts.append("other jobs in the window: " + ", ".join(dict.fromkeys(ev.interleaved)))
    parts.append(f"estimate {ev.estimate}")
    return ", ".join(parts)


def _delta_text(reading: CounterReading, d: Delta) -> str:
    if d.reset:
        return f"fell from {reading.before} to {reading.after} (reset)"
    if d.value is None:
        return "unknown"
    return f"{d.value} (saved every {reading.saves_every})" if d.granular else str(d.value)


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"
