"""The job list's detail line: pages and copies in words, or that the pages are unknown and
the figure is a deposit (issue 10: `pages: null` used to crash the row)."""

from __future__ import annotations

from msgspec.structs import replace

from agent.api.payloads import HeldJob
from ui import strings
from ui.screens.jobs import job_details

JOB = HeldJob(id=7, name="doc", submitted_at="2026-01-05T09:30:00+00:00", pages=1,
              impressions=1, copies=1, color=False, duplex=False, media="A4", estimate=200,
              estimate_text="2.00", estimate_kind="counted")


def test_counted_pages_and_copies() -> None:
    details = job_details(replace(JOB, pages=5, copies=2))
    assert strings.JOBS_COPIES.format(pages=5, copies=2) in details
    assert strings.JOBS_PAGE in job_details(JOB)


def test_a_deposit_says_the_pages_are_unknown_and_what_it_holds() -> None:
    details = job_details(replace(JOB, pages=None, impressions=None, estimate_kind="deposit"))
    assert "Pages unknown \u2014 holds 2.00" in details
    assert details.endswith(f"{strings.JOBS_MONO}  \u00b7  {strings.JOBS_SIMPLEX}")


def test_unknown_pages_counted_as_an_estimate_still_say_unknown() -> None:
    assert "Pages unknown" in job_details(replace(JOB, pages=None))
