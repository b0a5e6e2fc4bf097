"""The bench's seeded jobs: what each one is, and how its outcome compares with the truth.

Kept apart from the driving (bench.metering_device) and the report (bench.metering_report)
so the plan of a run can be read and changed on its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

PRICE = {False: 10, True: 50}  # minor units per impression, as tests.agent_env's agent.toml
MIX = [("clean", 70), ("jam-abort", 10), ("jam-continue", 5), ("paper-out", 5),
       ("device-cancel", 5), ("user-cancel", 3), ("walk-up-copy", 2)]


@dataclass
class Plan:
    """One seeded job: its size, colour, fault and the page the fault strikes at."""

    index: int
    pages: int
    color: bool
    fault: str
    at: int
    copy_pages: int = 0


@dataclass
class Outcome:
    plan: Plan
    job_id: int
    truth: int
    charged_pages: int | None
    review: bool
    review_note: str | None
    reason: str | None
    settle_s: float | None
    copy_interleaved: bool = False
    job_key: str = ""
    copy_before_settle: bool = False
    """A walk-up copy started before the job's result came (inside the window metering
    looks at): without per-job counts its pages and the job's cannot be told apart."""

    @property
    def verdict(self) -> str:
        """review, or how the charged pages compare with the pages really printed."""
        if self.review:
            return "review"
        if self.charged_pages is None:
            return "odd"  # a charge that is not a whole number of pages
        if self.charged_pages == self.truth:
            return "exact"
        return "over" if self.charged_pages > self.truth else "under"


def make_plans(n: int, seed: int) -> list[Plan]:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    plans = []
    for i in range(n):
        fault = rng.choices(kinds, weights)[0]
        pages = rng.randint(1, 30)
        if fault != "clean":
            pages = max(pages, 2)  # a fault "during" the job needs a page after it
        plans.append(Plan(i, pages, rng.random() < 0.3, fault, rng.randint(1, pages - 1)
                          if pages > 1 else 1, rng.randint(1, 5)))
    return plans


def job_faults(plan: Plan) -> dict[str, Any] | None:
    return {"jam-abort": {"jam_at": plan.at, "jam_then": "abort"},
            "jam-continue": {"jam_at": plan.at, "jam_then": "continue"},
            "paper-out": {"paper_out_at": plan.at},
            "device-cancel": {"cancel_at": plan.at}}.get(plan.fault)

def expected_reason(o: Outcome) -> str:
    """The refund reason code the ground truth calls for."""
    if o.plan.fault == "jam-abort":
        return "jam"
    if o.plan.fault == "device-cancel":
        return "canceled-at-device"
    if o.plan.fault == "user-cancel" and o.truth < o.plan.pages:
        return "canceled-by-user" if o.truth else "never-started"
    return "completed"


def during(copy: dict[str, Any], job: dict[str, Any]) -> bool:
    """Did the walk-up copy start while the job was printing (ground truth)?"""
    start, end = copy["processing_at"], job["completed_at"]
    return start is not None and job["processing_at"] <= start <= (end or start)
