"""How long a job may keep failing at the printer before it stops blocking the others."""

from __future__ import annotations

from agent.metering.retry import RetryBudget
from drivers.ipp.client import IppRefused, IppUnreachable

NOT_FOUND = IppRefused("Get-Job-Attributes", 0x0406, "job 3 does not exist")
DOWN = IppUnreachable("no answer from 10.0.0.9:631 within 10 s")


def test_refusals_give_up_after_the_set_number_of_answers() -> None:
    budget = RetryBudget(refused_tries=3, unreachable_s=600)
    assert [budget.spend(NOT_FOUND, t) for t in (0.0, 1.0, 2.0)] == [False, False, True]


def test_an_unreachable_printer_gets_time_not_a_count() -> None:
    budget = RetryBudget(refused_tries=3, unreachable_s=600)
    assert not any(budget.spend(DOWN, t) for t in range(0, 600, 10))
    assert budget.spend(DOWN, 600.0)


def test_time_counts_from_the_first_failure_of_any_kind() -> None:
    budget = RetryBudget(refused_tries=3, unreachable_s=60)
    assert not budget.spend(DOWN, 100.0)
    assert not budget.spend(NOT_FOUND, 130.0)
    assert budget.spend(DOWN, 160.0)
