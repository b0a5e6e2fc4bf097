"""Money as integer minor units: parse "1.20" exactly (no floats), format back for people."""

from __future__ import annotations

import re

from contract.payloads import MAX_MONEY

_MONEY = re.compile(r"([+-]?)(\d{1,12})(?:\.(\d{1,2}))?")


class MoneyError(ValueError):
    """An amount that is not a plain decimal with at most two decimals."""


def parse_money(text: str) -> int:
    """ "1.20" → 120, "-3" → -300, "0.5" → 50; anything else raises MoneyError."""
    m = _MONEY.fullmatch(text.strip())
    if not m:
        raise MoneyError(f"{text!r} is not an amount: write it like 5, 5.00 or -1.20")
    sign, whole, frac = m.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if cents > MAX_MONEY:
        raise MoneyError(f"{text!r} is too large: at most {format_money(MAX_MONEY)}")
    return -cents if sign == "-" else cents


def format_money(cents: int) -> str:
    """120 → "1.20", -5 → "-0.05"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"
