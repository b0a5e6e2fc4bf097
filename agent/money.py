"""Money for the agent: the shared currency-aware code lives in `contract.money`."""

from contract.money import DEFAULT_EXPONENT, MoneyError, exponent, format_money, parse_money

__all__ = ["DEFAULT_EXPONENT", "MoneyError", "exponent", "format_money", "parse_money"]
