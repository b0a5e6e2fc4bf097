"""Money in lists for people: one line per user, in the ledger's currency."""

from __future__ import annotations

from collections.abc import Sequence

from central.money import format_money


def money_list(rows: Sequence[tuple[str, int]], currency: str, most: int = 50) -> str:
    lines = [f"{user}: {format_money(amount, currency)} {currency}" for user, amount
             in rows[:most]]
    if len(rows) > most:
        lines.append(f"... and {len(rows) - most} more")
    return "\n  ".join(lines)
