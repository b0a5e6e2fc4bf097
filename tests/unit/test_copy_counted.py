"""The pure rules of a copy session counted without a board: copy counters, live pages
and the decision between the copy counters and the page counter less prints."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.copying.counted_rules import (
    copy_counter_names,
    copy_counter_pages,
    decide_counted,
    live_pages,
)

KM = {"copy_mono": 100, "print_mono": 500, "copy_color": 40, "print_color": 70}


def test_copy_counters_count_copies_by_kind_and_ignore_prints() -> None:
    end = {**KM, "copy_mono": 103, "copy_color": 42, "print_mono": 520}
    assert copy_counter_names(KM) == ["copy_mono", "copy_color"]
    pages = copy_counter_pages(KM, end)
    assert pages is not None
    assert (pages["mono"], pages["colour"], sum(pages.values())) == (3, 2, 5)


def test_copy_counters_that_cannot_be_compared_count_nothing() -> None:
    assert copy_counter_pages({}, KM) is None  # the profile has none
    assert copy_counter_pages({"print_mono": 1}, {"print_mono": 9}) is None
    assert copy_counter_pages(KM, {"copy_mono": 101}) is None  # copy_color went missing
    assert copy_counter_pages(KM, {**KM, "copy_mono": 99}) is None  # went down: a reset


def test_live_pages_from_copy_counters_or_the_page_counter_less_prints() -> None:
    assert live_pages(KM, {**KM, "copy_color": 41}, 1000, 1009, 0) == {
        "mono": 0, "colour": 1, "mono_large": 0, "colour_large": 0}
    mono = {"mono": 4, "colour": 0, "mono_large": 0, "colour_large": 0}
    assert live_pages({}, {}, 1000, 1009, 5) == mono  # 9 pages, 5 of them printed
    assert live_pages({}, {}, 1000, 1002, 5) == {**mono, "mono": 0}  # never below zero
    assert live_pages({}, {}, None, 1002, 0) is None  # no count at the start
    assert live_pages({}, {}, 1000, None, 0) is None  # the counter did not answer this time
    assert live_pages(KM, {}, 1000, 1009, 0) is None  # nor the copy counters: no guess


def test_agreement_settles_and_either_count_alone_settles() -> None:
    both = decide_counted(5, 5, "", promised=True)
    assert (both.pages, both.review, both.source) == (5, False, "copy-counters+counters")
    only_copies = decide_counted(5, None, "print job 7 has not settled", promised=True)
    assert (only_copies.pages, only_copies.review, only_copies.source) == (
        5, False, "copy-counters")
    assert "print job 7 has not settled" in only_copies.note
    only_page = decide_counted(None, 4, "", promised=False)
    assert (only_page.pages, only_page.review, only_page.source) == (4, False, "counters")


def test_disagreement_missing_copy_counters_or_no_count_go_to_review() -> None:
    apart = decide_counted(2, 5, "", promised=True)
    assert (apart.pages, apart.review, apart.source) == (5, True, "review")
    assert "copy counters show 2 pages and its page counter 5" in apart.note
    gone = decide_counted(None, 3, "", promised=True)
    assert (gone.pages, gone.review) == (3, True)
    assert "could not be read at the end" in gone.note
    nothing = decide_counted(None, None, "the device's counters could not be read",
                             promised=False)
    assert (nothing.pages, nothing.review) == (0, True)
    assert nothing.note == "no count at all: the device's counters could not be read"


@given(st.none() | st.integers(0, 10_000), st.none() | st.integers(0, 10_000), st.booleans())
def test_the_charge_is_never_below_either_count(copies: int | None, counters: int | None,
                                                promised: bool) -> None:
    decision = decide_counted(copies, counters, "why", promised)
    counts = [n for n in (copies, counters) if n is not None]
    assert decision.pages == max(counts, default=0)
    assert decision.review == (not counts or (len(counts) == 2 and copies != counters)
                               or (copies is None and promised))
