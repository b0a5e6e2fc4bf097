"""The credit check before release, with a denial people can act on."""

from __future__ import annotations

from agent.accounts import Credit
from agent.api.protocol import ApiError
from agent.money import format_money


def check_credit(credit: Credit, cost: int, currency: str) -> None:
    available = credit.available
    if available is None or cost <= available:
        return
    raise ApiError(
        "denied",
        f"Print denied: balance {format_money(credit.balance, currency)}, "
        f"job costs {format_money(cost, currency)}",
        {"balance": credit.balance, "cost": cost},
    )
