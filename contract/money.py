"""Money as integer minor units, and the only place that turns it into text or back.

Shared by agent and central (both may import `contract`), so a currency's decimals are known
in one place: EUR has 2, JPY 0, KWD 3. Floats never carry money in PageTally: a cent lost to
rounding on every page adds up on a printer that prints a million pages. Text and config
numbers are parsed exactly or refused.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

DEFAULT_EXPONENT = 2

# ISO 4217 minor-unit exponents that differ from the usual 2 decimals.
_EXPONENTS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0,
    "TND": 3, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip

_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# Floats are exact integers only up to 2**53; SQLite integers stop at 2**63.
_FLOAT_LIMIT = 2**53
_MINOR_LIMIT = 2**63


class MoneyError(ValueError):
    """An amount that cannot be read exactly, with the reason in plain words."""


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has (EUR 2, JPY 0, KWD 3)."""
    if not _CURRENCY_CODE.fullmatch(currency):
        raise MoneyError(f"{currency!r} is not a currency code; use three capitals like 'EUR'")
    return _EXPONENTS.get(currency, DEFAULT_EXPONENT)


def format_money(minor: int, currency: str = "EUR") -> str:
    """Minor units as plain text with the currency's decimals: 120 -> '1.20', -40 -> '-0.40'."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise MoneyError(f"money must be a whole number of minor units, got {minor!r}")
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**places)
    if places == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{places}d}"


def parse_money(value: str | int | float, currency: str = "EUR") -> int:
    """Text or a config number in major units ('1.20', 1.2, 3) -> minor units (120, 120, 300).

    Refuses anything that would need rounding, so '0.105' EUR is an error, not 0.10 or 0.11.
    """
    places = exponent(currency)
    amount = _to_decimal(value)
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{currency} amounts have at most {places} decimals, got {_show(value)}")
    minor = int(scaled)
    if abs(minor) >= _MINOR_LIMIT:
        raise MoneyError(f"amount {_show(value)} is too large")
    return minor


def _to_decimal(value: str | int | float) -> Decimal:
    """The exact decimal the person wrote, or MoneyError."""
    if isinstance(value, bool):
        raise MoneyError(f"expected an amount like '1.20', got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() is the shortest text that reads back as this float: 0.1 -> '0.1'.
        try:
            amount = Decimal(repr(value))
        except InvalidOperation as exc:
            raise MoneyError(f"expected an amount like '1.20', got {value!r}") from exc
        if not amount.is_finite():
            raise MoneyError(f"expected an amount like '1.20', got {value!r}")
        if abs(amount) >= _FLOAT_LIMIT:
            raise MoneyError(f"amount {value!r} is too large to be exact; write it as text")
        return amount
    if isinstance(value, str):
        text = value.strip()
        if _PLAIN_NUMBER.fullmatch(text):
            return Decimal(text)
        if re.fullmatch(r"[+-]?[0-9]+,[0-9]+", text):
            raise MoneyError(f"use a dot for decimals, like '1.20', not {value!r}")
        raise MoneyError(f"expected an amount like '1.20', got {value!r}")
    raise MoneyError(f"expected an amount like '1.20', got {type(value).__name__}")


def _show(value: str | int | float) -> str:
    return repr(value) if isinstance(value, str) else str(value)
