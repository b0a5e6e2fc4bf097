"""Money at central: the shared currency-aware code, bounded to what the contract carries.

The ledger's currency decides the decimals (`contract.money`); an amount beyond the
contract's `MAX_MONEY` could never travel in a txn or an ack, so it is refused here too.
"""

from __future__ import annotations

from contract import money
from contract.money import MoneyError, exponent, format_money
from contract.payloads import MAX_MONEY

__all__ = ["MoneyError", "exponent", "format_money", "parse_money"]


def parse_money(text: str, currency: str = "EUR") -> int:
    """ "1.20" EUR → 120, "500" JPY → 500; anything inexact or too large raises MoneyError."""
    minor = money.parse_money(text, currency)
    if abs(minor) > MAX_MONEY:
        raise MoneyError(f"{text!r} is too large: at most {format_money(MAX_MONEY, currency)}")
    return minor
