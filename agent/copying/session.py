"""The pure rules of a copy session: its limit, its pages, its price and how it settles.

No I/O here: the runner reads the board and the device, these functions judge what they
read, so each rule is tested on its own and a settle can be replayed from stored evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from agent.ledger.models import JobRow
from agent.metering.decide import CounterReading, counter_delta
from firmware_bridge import protocol as p

LIMIT_MAX = 2**32 - 1
"""The board's largest limit: an unrestricted user is enabled up to it."""

COPY_KINDS = ("mono", "colour", "mono_large", "colour_large")


class CopyDenied(Exception):
    """The user may not start copying (no credit for one page); the message says why."""


class CopyUnavailable(Exception):
    """Copying cannot start or stop here now; the message says why in plain words."""


def unit_weight(price: int) -> int:
    """Units one page uses of the board's limit: its price, so the board enforces money.
    A free page still uses one unit (the board refuses a weight of 0)."""
    return max(1, price)


def copy_limit(available: int | None, prices: Iterable[int]) -> int:
    """The board's limit in minor units: all the credit the user may spend, so a session
    can never cost more than that. Refused when even the cheapest page is out of reach."""
    if available is None:
        return LIMIT_MAX
    cheapest = min(unit_weight(price) for price in prices)
    if available < cheapest:
        raise CopyDenied("Copy denied: your credit does not cover one page")
    return min(available, LIMIT_MAX)


def board_pages(start: Sequence[int], now: Sequence[int],
                kinds: Mapping[int, str]) -> dict[str, int]:
    """Pages per kind between two board snapshots of one boot (cumulative, 32-bit wrap),
    from each configured channel's page counter (`kinds`: channel → kind of page)."""
    pages = dict.fromkeys(COPY_KINDS, 0)
    for channel, kind in kinds.items():
        pages[kind] += p.wrap_delta(now[channel], start[channel])
    return pages


def price_of(pages: Mapping[str, int], prices: Mapping[str, int]) -> int:
    return sum(count * prices[kind] for kind, count in pages.items())


def charge_for(pages: int, by_kind: Mapping[str, int], prices: Mapping[str, int]) -> int:
    """The price of `pages` charged when the pages by kind count fewer: the pages no kind
    counted are priced at the dearest kind counted (mono when none was), never cheaper."""
    extra = pages - sum(by_kind.values())
    dearest = max((prices[k] for k, n in by_kind.items() if n), default=prices["mono"])
    return price_of(by_kind, prices) + max(0, extra) * dearest


@dataclass(frozen=True)
class PrintsInWindow:
    """Pages print jobs made while the copier was on: None when they cannot be known."""

    pages: int | None
    why: str = ""


def prints_in_window(jobs: Iterable[JobRow], printer: str, start: str, end: str
                     ) -> PrintsInWindow:
    """Pages of this printer's print jobs released during the session (ledger times, UTC
    ISO text, compare as text). A job released before the session and still going at its
    start, or one not yet settled, makes the count unknown: the counters then prove nothing."""
    total = 0
    for job in jobs:
        if job.printer != printer or job.state == "abandoned" or job.created_at > end:
            continue
        if job.settled_at is not None and job.settled_at < start:
            continue
        if job.created_at < start:
            return PrintsInWindow(None, f"print job {job.queue_job_id} began before the copies")
        if job.printed is None:
            return PrintsInWindow(None, f"print job {job.queue_job_id} has not settled")
        total += job.printed
    return PrintsInWindow(total)


@dataclass(frozen=True)
class CopyDecision:
    pages: int
    review: bool
    source: str  # "board+counters" | "board" | "review"
    note: str
    counter_pages: int | None


def device_copy_pages(snmp: CounterReading, ipp: CounterReading, prints: PrintsInWindow,
                      board: int) -> tuple[int | None, str]:
    """Copies the device's own counters show: their delta minus the prints in the window.
    None (with why) when no counter is trustworthy."""
    if prints.pages is None:
        return None, prints.why
    deltas = {d.value for d in (counter_delta(snmp, board), counter_delta(ipp, board))
              if d.value is not None}
    if not deltas:
        return None, "the device's counters could not be read"
    if len(deltas) > 1:
        return None, "the device's SNMP and IPP counters disagree"
    return deltas.pop() - prints.pages, ""


def decide_copy(board: int | None, counters: int | None, why_not: str = "") -> CopyDecision:
    """The board's pulses against the device's counter delta. Agreement, or no trusted
    counter, charges the board's count; a disagreement charges the larger count and goes
    to review (the rule of agent/metering/decide.py). Without the board's count (it
    restarted mid-session) the device's count is charged, for review."""
    if board is None:
        return CopyDecision(counters or 0, True, "review",
                            "the board's counters were lost (it restarted or is gone); "
                            + (f"charged the device's count of {counters}" if counters
                               is not None else f"no count at all: {why_not}"), counters)
    if counters is None:
        return CopyDecision(board, False, "board", f"board pulses only: {why_not}", None)
    if counters == board:
        return CopyDecision(board, False, "board+counters", "board and counters agree",
                            counters)
    charged = max(board, counters)
    return CopyDecision(charged, True, "review",
                        f"the board counted {board} pages and the device's counters "
                        f"{counters}; charged {charged}, the larger", counters)
