"""Card-number conversion chains and their config errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.identity.conversions import ConversionConfigError, ConversionError, parse_chain


@pytest.mark.parametrize(("steps", "card", "expected"), [
    (["hex2dec"], "00BC614E", "12345678"),
    (["hex2dec:10"], "BC614E", "0012345678"),
    (["dec2hex"], "12345678", "BC614E"),
    (["dec2hex:8"], "12345678", "00BC614E"),
    (["reverse-bytes"], "4E61BC00", "00BC614E"),
    (["reverse-bytes"], "ABC", "BC0A"),
    (["ascii"], "3132334142", "123AB"),
    (["strip"], "  1234\r", "1234"),
    (["strip:0"], "000123400", "123400"),
    (["strip:;?"], ";1234?", "1234?"),
    (["regex:^..(.{8})$"], "0F00BC614E", "00BC614E"),
    (["regex:\\d+"], "ID=4711;", "4711"),
    (["lower"], "ABcD", "abcd"),
    (["upper"], "abcd", "ABCD"),
    (["regex:^..(.{8})$", "reverse-bytes", "hex2dec:10"], "0F4E61BC00", "0012345678"),
    ([], "as-is", "as-is"),
])
def test_steps(steps: list[str], card: str, expected: str) -> None:
    assert parse_chain(steps).apply(card) == expected


@pytest.mark.parametrize(("step", "words"), [
    ("hexdec", "unknown conversion step 'hexdec'; known steps are: hex2dec"),
    ("regex:(", "has a bad pattern"),
    ("regex:", "needs a pattern"),
    ("hex2dec:x", "whole number from 1 to 64"),
    ("lower:1", "takes no argument"),
])
def test_config_errors_in_plain_words(step: str, words: str) -> None:
    with pytest.raises(ConversionConfigError, match=words.replace("(", r"\(")):
        parse_chain(["strip", step])


@pytest.mark.parametrize(("steps", "card", "words"), [
    (["hex2dec"], "12G4", "step 'hex2dec': hex2dec needs hex digits only"),
    (["dec2hex"], "12A", "dec2hex needs decimal digits"),
    (["ascii"], "0102", "printable text"),
    (["ascii"], "123", "printable text"),
    (["regex:^X(\\d+)$"], "Y12", "does not match"),
    (["strip:0"], "0000", "empty after conversion"),
])
def test_card_that_does_not_fit(steps: list[str], card: str, words: str) -> None:
    with pytest.raises(ConversionError, match=words):
        parse_chain(steps).apply(card)


@given(st.integers(0, 2**64))
def test_hex2dec_dec2hex_round_trip(n: int) -> None:
    assert parse_chain(["dec2hex", "hex2dec"]).apply(str(n)) == str(n)
    h = format(n, "X")
    assert parse_chain(["reverse-bytes", "reverse-bytes"]).apply(h).lstrip("0") == \
        h.lstrip("0")


@given(st.text(max_size=40))
def test_any_text_either_converts_or_says_why(card: str) -> None:
    chain = parse_chain(["strip", "regex:([0-9A-Fa-f]+)", "hex2dec"])
    try:
        out = chain.apply(card)
    except ConversionError as exc:
        assert str(exc)
    else:
        assert out.isdigit()
