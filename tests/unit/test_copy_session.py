"""The pure rules of a copy session, and its rows in the ledger (settled exactly once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.copying.session import (
    LIMIT_MAX,
    CopyDenied,
    board_pages,
    charge_for,
    copy_limit,
    decide_copy,
    device_copy_pages,
    price_of,
    prints_in_window,
)
from agent.ledger import JobNotFound, Ledger
from agent.ledger.models import JobRow, JobState
from agent.metering.decide import CounterReading

PRICES = {"mono": 10, "colour": 50, "mono_large": 20, "colour_large": 100}
KINDS = {0: "mono", 1: "colour"}
START, END = "2026-01-01T10:00:00.000Z", "2026-01-01T10:05:00.000Z"


def job(created: str, settled: str | None, printed: int | None, *, printer: str = "p",
        state: JobState = "settled") -> JobRow:
    return JobRow(printer=printer, source="device", queue_job_id=3, user="u", name="n",
                  impressions=5, color=False, duplex=False, media=None, estimate=50,
                  job_key="k", state=state, printed=printed, reason=None, review=False,
                  review_note=None, created_at=created, updated_at=created,
                  settled_at=settled)


def test_the_limit_is_the_credit_in_minor_units() -> None:
    assert copy_limit(95, PRICES.values()) == 95
    assert copy_limit(None, PRICES.values()) == LIMIT_MAX  # unrestricted
    with pytest.raises(CopyDenied, match="does not cover one page"):
        copy_limit(9, PRICES.values())


def test_a_free_page_still_uses_one_unit_of_the_limit() -> None:
    assert copy_limit(1, [0, 10]) == 1
    with pytest.raises(CopyDenied):
        copy_limit(0, [0])


@given(st.integers(0, 2**32 - 1), st.integers(0, 500), st.integers(0, 500))
def test_board_pages_cross_the_32_bit_wrap(start: int, mono: int, colour: int) -> None:
    now = [(start + mono) % 2**32, (start + colour) % 2**32]
    pages = board_pages([start, start], now, KINDS)
    assert (pages["mono"], pages["colour"]) == (mono, colour)
    assert price_of(pages, PRICES) == mono * 10 + colour * 50


def test_pages_no_kind_counted_are_charged_at_the_dearest_kind_counted() -> None:
    assert charge_for(5, {"mono": 2, "colour": 3}, PRICES) == 2 * 10 + 3 * 50
    assert charge_for(7, {"mono": 2, "colour": 3}, PRICES) == 170 + 2 * 50  # 2 uncounted
    assert charge_for(4, {}, PRICES) == 4 * 10  # nothing by kind: priced as mono
    assert charge_for(3, {"mono": 0, "colour_large": 3}, PRICES) == 300
    assert charge_for(2, {"mono": 3}, PRICES) == 30  # fewer pages: the kinds' price


def test_prints_during_the_session_are_counted_and_unsettled_ones_are_unknown() -> None:
    before = job("2026-01-01T09:00:00.000Z", "2026-01-01T09:01:00.000Z", 9)
    during = job("2026-01-01T10:01:00.000Z", "2026-01-01T10:02:00.000Z", 5)
    elsewhere = job("2026-01-01T10:01:00.000Z", "2026-01-01T10:02:00.000Z", 7, printer="q")
    assert prints_in_window([before, during, elsewhere], "p", START, END).pages == 5
    going = job("2026-01-01T10:03:00.000Z", None, None, state="following")
    assert prints_in_window([during, going], "p", START, END).pages is None
    straddles = job("2026-01-01T09:59:00.000Z", "2026-01-01T10:01:00.000Z", 4)
    window = prints_in_window([straddles], "p", START, END)
    assert (window.pages, window.why) == (None, "print job 3 began before the copies")


def test_counters_minus_prints_give_the_device_count() -> None:
    prints = prints_in_window([job("2026-01-01T10:01:00.000Z", "2026-01-01T10:02:00.000Z",
                                   5)], "p", START, END)
    count, _ = device_copy_pages(CounterReading(100, 111), CounterReading(200, 211, bits=None),
                                 prints, 6)
    assert count == 6
    count, why = device_copy_pages(CounterReading(100, 111), CounterReading(200, 212),
                                   prints, 6)
    assert (count, why) == (None, "the device's SNMP and IPP counters disagree")


def test_settle_decision() -> None:
    agree = decide_copy(6, 6)
    assert (agree.pages, agree.review, agree.source) == (6, False, "board+counters")
    only_board = decide_copy(6, None, "print job 3 has not settled")
    assert (only_board.pages, only_board.review) == (6, False)
    assert "print job 3 has not settled" in only_board.note
    disagree = decide_copy(6, 8)
    assert (disagree.pages, disagree.review) == (8, True)  # the larger trusted count
    assert decide_copy(9, 8).pages == 9
    lost = decide_copy(None, 4)
    assert (lost.pages, lost.review) == (4, True)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.db", device="pi-1", site="lib") as opened:
        yield opened


def test_a_copy_session_is_written_at_start_and_settles_once(ledger: Ledger) -> None:
    key = ledger.open_copy(user="alice", printer="p", board_boot=0xBEEF,
                           start={"board_pages": [3, 4], "kinds": {"0": "mono"}})
    [row] = ledger.open_copies()
    assert (row.session_key, row.user, row.board_boot, row.start["board_pages"]) == (
        key, "alice", 0xBEEF, [3, 4])
    txn = ledger.settle_copy(key, pages=4, cost=40, review=False, result={"pages": 4},
                             note="Copy: 4 pages")
    assert txn is not None and (txn.amount, txn.type, txn.session_key) == (-40, "copy", key)
    again = ledger.settle_copy(key, pages=9, cost=90, review=True, result={}, note="x")
    assert again == txn
    assert [t.amount for t in ledger.txns(session_key=key)] == [-40]
    assert ledger.open_copies() == []
    assert ledger.copy_session(key).result == {"pages": 4}


def test_a_session_with_no_pages_moves_no_money(ledger: Ledger) -> None:
    key = ledger.open_copy(user="bob", printer="p", board_boot=1, start={})
    assert ledger.settle_copy(key, pages=0, cost=0, review=False, result={}, note="") is None
    assert ledger.txns() == [] and ledger.copy_session(key).state == "settled"
    with pytest.raises(JobNotFound):
        ledger.settle_copy("nope", pages=1, cost=1, review=False, result={}, note="")
