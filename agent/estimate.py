"""What a held job will cost: the figure the credit check compares and the charge at release.

Pure: the job's pages, copies, sides, colour and media in, impressions and money out. A job
whose pages nobody could count (the device did not say, or CUPS's copy of the document is in
an unknown format, broken, too big or refused) holds a deposit instead, and says so, so
the panel can tell the user why the figure is round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.pricing import PriceTable
from drivers.ipp.models import JobInfo

EstimateKind = Literal["counted", "deposit"]


def two_sided(sides: str) -> bool:
    """IPP `sides`: two-sided-long-edge and two-sided-short-edge both print on both sides."""
    return sides.startswith("two-sided")


def job_impressions(pages: int, copies: int) -> int:
    """Impressions of the whole job: each page of each copy is one printed side.

    Two-sided printing does not change this, only the paper: a 5-page document two-sided is
    still 5 impressions, on 3 sheets. The blank back of an odd last page is not an
    impression; printers do not count it (nor does the simulator). Prices are per impression,
    with a duplex price for sides printed two to a sheet.
    """
    if pages < 0 or copies < 1:
        raise ValueError(f"a job has pages >= 0 and copies >= 1, got {pages} and {copies}")
    return pages * copies


@dataclass(frozen=True)
class Estimate:
    kind: EstimateKind
    pages: int | None
    """One copy's pages; None when they could not be counted."""
    impressions: int
    """The whole job, every copy; 0 when not counted (the deposit then stands in)."""
    cost: int
    """Minor units: the price of the impressions, or the deposit."""


def estimate(job: JobInfo, prices: PriceTable) -> Estimate:
    """The job's estimate. `job.impressions` is already the whole job (see JobInfo); None
    means nobody counted it."""
    duplex = two_sided(job.sides)
    if job.impressions is None:
        return Estimate("deposit", None, 0,
                        prices.deposit(color=job.color, duplex=duplex, media=job.media))
    return Estimate("counted", job.impressions // max(job.copies, 1), job.impressions,
                    prices.cost(job.impressions, color=job.color, duplex=duplex,
                                media=job.media))
