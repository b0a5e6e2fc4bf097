"""Price tables: per-impression prices, media fallback, job fee, and free printers."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.pricing import MediaPrices, PriceTable, media_key

TABLE = PriceTable(
    media={
        "default": MediaPrices(mono_simplex=10, mono_duplex=8, color_simplex=40, color_duplex=35),
        "a3": MediaPrices(mono_simplex=20, color_simplex=80),
    },
    job_fee=5,
)


@pytest.mark.parametrize(
    ("color", "duplex", "media", "cost"),
    [
        (False, False, "a4", 10 * 10 + 5),
        (False, True, "a4", 10 * 8 + 5),
        (True, False, None, 10 * 40 + 5),
        (True, True, "iso_a4_210x297mm", 10 * 35 + 5),
        (False, False, "A3", 10 * 20 + 5),
        (False, True, "iso_a3_297x420mm", 10 * 20 + 5),  # a3 has no duplex price: simplex
        (True, True, "a3", 10 * 80 + 5),
        (False, False, "tabloid", 10 * 10 + 5),  # unknown media: default prices
    ],
)
def test_cost_by_colour_sides_and_media(
    color: bool, duplex: bool, media: str | None, cost: int
) -> None:
    assert TABLE.cost(10, color=color, duplex=duplex, media=media) == cost


def test_nothing_printed_costs_nothing_not_even_the_fee() -> None:
    assert TABLE.cost(0, color=True, duplex=False, media="a4") == 0


def test_printer_without_prices_is_free() -> None:
    free = PriceTable()
    assert free.free
    assert free.cost(500, color=True, duplex=True, media="a3") == 0
    assert not TABLE.free
    assert PriceTable(job_fee=3).cost(4, color=False, duplex=False, media=None) == 3


def test_colour_falls_back_to_mono_when_unset() -> None:
    mono_only = PriceTable(media={"default": MediaPrices(mono_simplex=7)})
    assert mono_only.cost(2, color=True, duplex=True, media="letter") == 14


def test_negative_impressions_refused() -> None:
    with pytest.raises(ValueError, match="impressions cannot be negative, got -1"):
        TABLE.cost(-1, color=False, duplex=False, media=None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"media": {"default": {"mono_simplex": -1}}}, "mono_simplex must not be negative"),
        ({"media": {"default": {"color_duplex": -3}}}, "color_duplex must not be negative"),
        ({"job_fee": -5}, "job_fee must not be negative"),
        ({"media": {"a4": {"mono_simplex": 1}}}, "media needs a 'default' entry"),
        ({"media": {"default": {}, "A4": {}}}, "media name 'A4' must be lower case"),
        ({"media": {"default": {"mono": 1}}}, "unknown field `mono`"),
    ],
)
def test_invalid_tables_are_refused(raw: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(raw, PriceTable)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "key"),
    [("iso_a4_210x297mm", "a4"), ("na_letter_8.5x11in", "letter"), ("Letter", "letter"),
     ("na_govt-letter_8x10in", "govt-letter"), (" A3 ", "a3"), ("custom", "custom")],
)  # fmt: skip
def test_media_key(name: str, key: str) -> None:
    assert media_key(name) == key


prices = st.integers(min_value=0, max_value=10_000)


@given(
    st.integers(min_value=1, max_value=100_000), prices, prices, prices, prices, prices,
    st.booleans(), st.booleans(),
)  # fmt: skip
def test_cost_is_linear_in_impressions(
    n: int, ms: int, md: int, cs: int, cd: int, fee: int, color: bool, duplex: bool
) -> None:
    table = PriceTable(
        media={"default": MediaPrices(mono_simplex=ms, mono_duplex=md, color_simplex=cs,
                                      color_duplex=cd)},
        job_fee=fee,
    )  # fmt: skip
    one = table.cost(1, color=color, duplex=duplex, media=None) - fee
    assert table.cost(n, color=color, duplex=duplex, media="x") == n * one + fee
    assert (
        one
        == {(False, False): ms, (False, True): md, (True, False): cs, (True, True): cd}[
            (color, duplex)
        ]
    )
