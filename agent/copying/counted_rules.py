"""The pure rules of a copy session counted without a board, from the device's counters.

Two counts can be had: the vendor's copy counters (copies apart from prints, black and
colour, where the printer's SNMP profile names them) and the page counter's delta less
the prints of the window. Agreement settles; a disagreement, or copy counters the profile
promised that did not answer, goes to review charging the larger, as with the board.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.copying.session import COPY_KINDS, CopyDecision

COPY_COUNTERS = {"copy_mono": "mono", "copy_color": "colour"}
"""Vendor counter names (drivers/snmp/profiles) that count copies, and the kind of page."""


def copy_counter_names(vendor: Mapping[str, int]) -> list[str]:
    """The copy counters a reading carries: those the session can be counted by."""
    return [name for name in COPY_COUNTERS if name in vendor]


def copy_counter_pages(start: Mapping[str, int], end: Mapping[str, int]
                       ) -> dict[str, int] | None:
    """Copies by kind between two readings of the vendor's copy counters; None when the
    start had none, one is missing at the end, or one went down (a reset proves nothing)."""
    names = copy_counter_names(start)
    if not names or any(name not in end or end[name] < start[name] for name in names):
        return None
    pages = dict.fromkeys(COPY_KINDS, 0)
    for name in names:
        pages[COPY_COUNTERS[name]] += end[name] - start[name]
    return pages


def live_pages(start: Mapping[str, int], now: Mapping[str, int], life_start: int | None,
               life_now: int | None, printed: int) -> dict[str, int] | None:
    """Pages to show while copying: the copy counters when the start had any, else the
    page counter's delta less pages of print jobs settled in the window (mono: the page
    counter does not tell colour). Never below zero; the settle decides the charge. None
    when this reading cannot tell (a counter that did not answer this time)."""
    if copy_counter_names(start):
        return copy_counter_pages(start, now)
    if life_start is None or life_now is None:
        return None
    pages = dict.fromkeys(COPY_KINDS, 0)
    pages["mono"] = max(0, life_now - life_start - printed)
    return pages


def decide_counted(copies: int | None, counters: int | None, why_not: str,
                   promised: bool) -> CopyDecision:
    """The copy counters' delta (`copies`) against the page counter's delta less prints
    (`counters`). `promised`: the profile's copy counters answered at the start."""
    if copies is None and counters is None:
        return CopyDecision(0, True, "review", f"no count at all: {why_not}", None)
    if copies is None:
        assert counters is not None
        if promised:
            return CopyDecision(counters, True, "review",
                                "the device's copy counters could not be read at the end; "
                                f"charged its page counter's {counters}", counters)
        return CopyDecision(counters, False, "counters",
                            "the device's page counter less the prints in the window",
                            counters)
    if counters is None:
        return CopyDecision(copies, False, "copy-counters",
                            f"the device's copy counters only: {why_not}", None)
    if copies == counters:
        return CopyDecision(copies, False, "copy-counters+counters",
                            "the copy counters and the page counter agree", counters)
    charged = max(copies, counters)
    return CopyDecision(charged, True, "review",
                        f"the device's copy counters show {copies} pages and its page "
                        f"counter {counters}; charged {charged}, the larger", counters)
