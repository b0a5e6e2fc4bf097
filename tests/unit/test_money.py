"""Money text: exact both ways, or refused in plain words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.money import MoneyError, exponent, format_money, parse_money


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (120, "EUR", "1.20"), (-40, "EUR", "-0.40"), (0, "EUR", "0.00"), (5, "EUR", "0.05"),
        (123456789, "USD", "1234567.89"), (500, "JPY", "500"), (-1234, "KWD", "-1.234"),
        (7, "XYZ", "0.07"),
    ],
)  # fmt: skip
def test_format_money(minor: int, currency: str, text: str) -> None:
    assert format_money(minor, currency) == text


@pytest.mark.parametrize(
    ("value", "minor"),
    [("1.20", 120), ("1.2", 120), ("1", 100), (" -0.40 ", -40), ("+3.00", 300),
     (1.2, 120), (0.1, 10), (3, 300), (0, 0), (-0.05, -5), ("0.10", 10)],
)  # fmt: skip
def test_parse_money_exact(value: str | int | float, minor: int) -> None:
    assert parse_money(value) == minor


def test_parse_respects_currency_decimals() -> None:
    assert parse_money("1.234", "KWD") == 1234
    assert parse_money("500", "JPY") == 500
    with pytest.raises(MoneyError, match=r"JPY amounts have at most 0 decimals, got '1\.5'"):
        parse_money("1.5", "JPY")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.105", "EUR amounts have at most 2 decimals, got '0.105'"),
        (0.105, "EUR amounts have at most 2 decimals, got 0.105"),
        ("1,20", "use a dot for decimals, like '1.20', not '1,20'"),
        ("1e3", "expected an amount like '1.20', got '1e3'"),
        ("€1.20", "expected an amount like '1.20'"),
        ("", "expected an amount like '1.20', got ''"),
        (float("nan"), "expected an amount like '1.20', got nan"),
        (float("inf"), "expected an amount like '1.20', got inf"),
        (True, "expected an amount like '1.20', got True"),
        (1e300, "too large to be exact; write it as text"),
        ("9" * 30, "is too large"),
    ],
)
def test_parse_money_refuses_inexact_or_odd_input(value: object, message: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_money(value)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_bad_currency_code() -> None:
    with pytest.raises(MoneyError, match="'eur' is not a currency code"):
        exponent("eur")
    with pytest.raises(MoneyError, match="whole number of minor units"):
        format_money(1.5)  # type: ignore[arg-type]


@given(st.integers(min_value=-(2**62), max_value=2**62), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_money(format_money(minor, currency), currency) == minor


@given(st.text(max_size=30))
def test_parse_any_text_gives_int_or_money_error(text: str) -> None:
    try:
        result = parse_money(text)
    except MoneyError as exc:
        assert str(exc)
    else:
        assert isinstance(result, int)
        assert parse_money(format_money(result)) == result


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parse_any_float_is_exact_or_refused(value: float) -> None:
    try:
        result = parse_money(value)
    except MoneyError:
        return
    assert float(format_money(result)) == value  # the same number the person wrote
