"""Each metering rule on its own, from evidence alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.metering.decide import CounterReading, Evidence, counter_delta, decide, settled_early

WRAP = 2**32


def ev(**kw: object) -> Evidence:
    base: dict[str, object] = {"estimate": 10, "job_state": "completed"}
    base.update(kw)
    return Evidence(**base)  # type: ignore[arg-type]


def test_counter_and_ipp_agree_is_exact() -> None:
    d = decide(ev(ipp_job_count=10, snmp=CounterReading(100, 110)))
    assert (d.printed, d.review, d.source, d.reason) == (10, False, "counter+ipp", "completed")


def test_jam_abort_charges_pages_marked_with_reason_and_page() -> None:
    d = decide(ev(job_state="aborted", job_reasons=("aborted-by-system",), ipp_job_count=3,
                  snmp=CounterReading(50, 53), stops=(("jam", 3),)))
    assert (d.printed, d.review, d.reason, d.at_page) == (3, False, "jam", 3)


def test_canceled_before_printing_is_never_started() -> None:
    d = decide(ev(job_state="canceled", ipp_job_count=0, snmp=CounterReading(7, 7)))
    assert (d.printed, d.reason) == (0, "never-started")


def test_cancel_at_device_is_exact() -> None:
    d = decide(ev(job_state="canceled", job_reasons=("job-canceled-at-device",),
                  ipp_job_count=4, snmp=CounterReading(0, 4)))
    assert (d.printed, d.review, d.reason, d.at_page) == (4, False, "canceled-at-device", 4)


def test_counter32_wrap_is_handled() -> None:
    assert counter_delta(CounterReading(WRAP - 3, 7), 10).value == 10
    d = decide(ev(ipp_job_count=10, snmp=CounterReading(WRAP - 3, 7)))
    assert (d.printed, d.review) == (10, False)


def test_counter_reset_goes_to_review_charged_from_the_job_count() -> None:
    """Chaos run: a CUPS job (estimate 0) printed 8 pages across a counter reset and was
    charged nothing. The per-job count still shows the 8 pages."""
    d = decide(ev(estimate=0, ipp_job_count=8, snmp=CounterReading(5000, 10)))
    assert (d.printed, d.review, d.source) == (8, True, "review")
    assert d.review_note == (
        "the SNMP counter was reset during the job. Compared: SNMP counter delta fell from "
        "5000 to 10 (reset), IPP printer counter delta unknown, IPP job count 8, estimate 0; "
        "charged 8 pages, the only trusted count")


def test_both_counters_reset_is_said_once_with_each_figure() -> None:
    """A newcomer saw the reset sentence twice, once per counter, neither named."""
    d = decide(ev(estimate=6, ipp_job_count=6, snmp=CounterReading(900, 4),
                  ipp_printer=CounterReading(880, 4, bits=None)))
    assert d.review_note == (
        "both page counters were reset during the job. Compared: SNMP counter delta fell "
        "from 900 to 4 (reset), IPP printer counter delta fell from 880 to 4 (reset), IPP job "
        "count 6, estimate 6; charged 6 pages, the only trusted count")


def test_conflict_charges_the_largest_count_and_names_every_number() -> None:
    """Chaos run: the note said "counter delta 6 and IPP job count 6 disagree" when the
    IPP printer counter said 9: the note must carry every number, each named."""
    d = decide(ev(estimate=10, ipp_job_count=6, snmp=CounterReading(0, 6),
                  ipp_printer=CounterReading(100, 109, bits=None)))
    assert (d.printed, d.review) == (9, True)
    assert d.review_note == (
        "the counters and the IPP job count disagree. Compared: SNMP counter delta 6, IPP "
        "printer counter delta 9, IPP job count 6, estimate 10; charged 9 pages, the largest "
        "of the trusted counts")
    assert d.deltas == {"snmp": 6, "ipp_printer": 9}


def test_review_with_no_trusted_count_charges_the_estimate() -> None:
    d = decide(ev(estimate=7, snmp=CounterReading(0, 9), interleaved=("Copy #2 (3)",) * 2))
    assert (d.printed, d.review) == (7, True)
    assert d.review_note == (
        "another job printed during this one and the device gave no per-job count: "
        "Copy #2 (3). Compared: SNMP counter delta 9, IPP printer counter delta unknown, IPP "
        "job count not reported, other jobs in the window: Copy #2 (3), estimate 7; charged "
        "the estimate of 7 pages")


def test_interleaved_copy_makes_delta_untrusted_and_ipp_is_used() -> None:
    d = decide(ev(ipp_job_count=10, snmp=CounterReading(0, 13), interleaved=("Copy #9 (3)",)))
    assert (d.printed, d.review, d.source) == (10, False, "ipp")


def test_only_counter_trustworthy_is_used() -> None:
    d = decide(ev(estimate=10, ipp_job_count=None, snmp=CounterReading(0, 6),
                  job_state="aborted"))
    assert (d.printed, d.review, d.source) == (6, False, "counter")


def test_saves_every_ten_agrees_within_granularity() -> None:
    reading = CounterReading(20, 30, saves_every=10)
    d = decide(ev(estimate=13, ipp_job_count=13, snmp=reading))
    assert (d.printed, d.review) == (13, False)


def test_saves_every_ten_alone_is_not_exact() -> None:
    d = decide(ev(estimate=13, snmp=CounterReading(20, 30, saves_every=10)))
    assert (d.printed, d.review) == (13, True)  # review at the estimate: 10 is only near


def test_nothing_known_charges_estimate_and_reviews() -> None:
    d = decide(ev(estimate=7))
    assert (d.printed, d.review, d.source) == (7, True, "review")


def test_ipp_printer_counter_stands_in_when_snmp_is_asleep() -> None:
    d = decide(ev(ipp_job_count=10, snmp=CounterReading(None, 110),
                  ipp_printer=CounterReading(40, 50, bits=None)))
    assert (d.printed, d.review, d.source) == (10, False, "counter+ipp")


def test_more_printed_than_estimated_is_charged() -> None:
    d = decide(ev(estimate=10, ipp_job_count=12, snmp=CounterReading(0, 12)))
    assert (d.printed, d.review) == (12, False)


def test_counters_that_never_settle_send_the_job_to_review() -> None:
    d = decide(ev(ipp_job_count=10, snmp=CounterReading(0, 12),
                  unsettled="counters did not settle within 120 s"))
    assert (d.printed, d.review) == (12, True)
    assert d.review_note is not None
    assert d.review_note.startswith("counters did not settle within 120 s. Compared: ")


@settings(max_examples=2000, deadline=None)
@given(estimate=st.integers(0, 60), ipp=st.one_of(st.none(), st.integers(0, 80)),
       before=st.one_of(st.none(), st.integers(0, WRAP - 1)),
       delta=st.one_of(st.none(), st.integers(0, 80)),
       state=st.sampled_from(["completed", "canceled", "aborted"]))
def test_other_jobs_in_the_window_never_change_a_per_job_count_decision(
        estimate: int, ipp: int | None, before: int | None, delta: int | None,
        state: str) -> None:
    """The meter lists the device's jobs only when the decision can depend on them."""
    after = None if before is None or delta is None else (before + delta) % WRAP
    alone = ev(estimate=estimate, ipp_job_count=ipp, job_state=state,
               snmp=CounterReading(before, after))
    decision = decide(alone)
    if decision.source in {"counter+ipp", "ipp"}:
        crowded = decide(Evidence(**{**alone.__dict__, "interleaved": ("Copy #9 (3)",)}))
        assert (crowded.printed, crowded.review) == (decision.printed, decision.review)


@settings(max_examples=2000, deadline=None)
@given(estimate=st.integers(0, 60), ipp=st.one_of(st.none(), st.integers(0, 80)),
       before=st.one_of(st.none(), st.integers(0, 10_000)),
       delta=st.one_of(st.none(), st.integers(-50, 80)),
       other=st.one_of(st.none(), st.integers(0, 80)),
       interleaved=st.booleans(), unsettled=st.booleans())
def test_a_review_never_charges_less_than_a_trusted_count(
        estimate: int, ipp: int | None, before: int | None, delta: int | None,
        other: int | None, interleaved: bool, unsettled: bool) -> None:
    after = None if before is None or delta is None else max(0, before + delta)
    e = ev(estimate=estimate, ipp_job_count=ipp, snmp=CounterReading(before, after),
           ipp_printer=CounterReading(0, other, bits=None),
           interleaved=("Copy #3 (2)",) if interleaved else (),
           unsettled="counters did not settle within 120 s" if unsettled else None)
    d = decide(e)
    if not d.review:
        return
    if ipp is not None:
        assert d.printed >= ipp
    if not interleaved and other is not None:
        assert d.printed >= other
    if not interleaved and d.deltas["snmp"] is not None:
        assert d.printed >= d.deltas["snmp"]
    if ipp is None and (interleaved or other is None) and d.deltas["snmp"] is None:
        assert d.printed == estimate
    assert d.review_note is not None and f"estimate {estimate}" in d.review_note


def test_a_doubtful_device_job_match_is_reviewed_and_its_count_not_charged() -> None:
    """The device job may be another release's: never settle from another job's count."""
    d = decide(ev(estimate=5, ipp_job_count=1, interleaved=("same.pdf #12 (5)",),
                  snmp=CounterReading(0, 6), doubt="2 device jobs named 'same.pdf'"))
    assert (d.printed, d.review) == (5, True)
    assert d.review_note is not None
    assert "IPP job count 1 (of a device job that may be another's)" in d.review_note


def test_a_deposit_job_in_review_with_nothing_counted_keeps_the_deposit() -> None:
    d = decide(ev(estimate=0, deposit=True))
    assert (d.printed, d.review, d.at_estimate) == (0, True, True)
    assert d.review_note is not None
    assert d.review_note.endswith("kept the deposit held at release, as nobody counted the "
                                  "job's pages")
    counted = decide(ev(estimate=0, deposit=True, ipp_job_count=4, snmp=CounterReading(0, 5)))
    assert (counted.printed, counted.review, counted.at_estimate) == (5, True, False)


def test_a_job_the_agent_cancelled_for_a_stall_is_not_canceled_by_the_user() -> None:
    stuck = ev(job_state="canceled", job_reasons=("job-canceled-by-user",), ipp_job_count=2,
               snmp=CounterReading(0, 2), stops=(("jam", 2),), stalled=True)
    assert (decide(stuck).reason, decide(stuck).at_page) == ("jam", 2)
    silent = ev(job_state="canceled", job_reasons=("job-canceled-by-user",), ipp_job_count=2,
                snmp=CounterReading(0, 2), stalled=True)
    assert decide(silent).reason == "aborted"


def test_a_job_count_equal_to_the_delta_settles_early() -> None:
    assert settled_early(ev(ipp_job_count=10, snmp=CounterReading(100, 110)), 10)


def test_without_a_job_count_a_successful_job_settles_early_on_its_size() -> None:
    """No per-job count (the no-job-counts printers): the job completed all it asked for,
    and the counter moved by exactly that."""
    done = ("job-completed-successfully",)
    assert settled_early(ev(job_reasons=done, snmp=CounterReading(100, 110)), 10)
    # Short of it (a counter still catching up) or past it (another job's pages): wait.
    assert not settled_early(ev(job_reasons=done, snmp=CounterReading(100, 109)), 10)
    assert not settled_early(ev(job_reasons=done, snmp=CounterReading(100, 113)), 10)
    # The device does not say it completed successfully, or the job stopped early: wait.
    assert not settled_early(ev(snmp=CounterReading(100, 110)), 10)
    assert not settled_early(ev(job_state="aborted", job_reasons=done,
                                snmp=CounterReading(100, 110)), 10)
    assert not settled_early(ev(job_reasons=done, snmp=CounterReading(100, 110)), None)
    # Two counters that disagree with each other never agree with the job.
    assert not settled_early(ev(job_reasons=done, snmp=CounterReading(100, 110),
                                ipp_printer=CounterReading(50, 61, bits=None)), 10)
