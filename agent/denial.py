"""The credit check before release, with a denial people can act on."""

from __future__ import annotations

from agent.accounts import Credit
from agent.api.protocol import ApiError
from agent.money import format_money


def check_credit(credit: Credit, cost: int, currency: str, *, deposit: int = 0) -> None:
    """Refuse a release costing more than the user may spend. `deposit` is the part of `cost`
    held for jobs whose pages could not be counted: the message says so, or the user would
    see a price for pages the job may not have."""
    available = credit.available
    if available is None or cost <= available:
        return
    held = (f" (including a deposit of {format_money(deposit, currency)} for pages that "
            "cannot be counted)") if deposit else ""
    raise ApiError(
        "denied",
        f"Print denied: balance {format_money(credit.balance, currency)}, "
        f"job costs {format_money(cost, currency)}{held}",
        {"balance": credit.balance, "cost": cost, "deposit": deposit},
    )
