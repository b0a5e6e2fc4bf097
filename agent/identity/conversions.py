"""Card-number conversions, configured per reader as a chain of step strings.

The same card reads differently on different readers (hex or decimal, byte order, framing
characters). A chain turns each reader's output into the number the accounts store:

    conversions = ["strip", "regex:^..(.{8})$", "reverse-bytes", "hex2dec:10"]

Steps: hex2dec[:WIDTH], dec2hex[:WIDTH], reverse-bytes, ascii, strip[:CHARS], regex:PATTERN,
lower, upper. See docs/readers.md.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Step = Callable[[str], str]
HEX = re.compile(r"[0-9A-Fa-f]+")


class ConversionConfigError(ValueError):
    """A conversion step in the config that cannot be used; the message says why."""


class ConversionError(ValueError):
    """A card string that does not fit a step (for example "hex2dec" on "12G4")."""


def _width(name: str, arg: str | None) -> int:
    if arg is None:
        return 0
    if not arg.isdigit() or not 0 < int(arg) <= 64:
        raise ConversionConfigError(f"conversion step '{name}:{arg}': the width after the "
                                    "colon must be a whole number from 1 to 64")
    return int(arg)


def _hex2dec(width: int) -> Step:
    def step(card: str) -> str:
        if not HEX.fullmatch(card):
            raise ConversionError("hex2dec needs hex digits only")
        return str(int(card, 16)).zfill(width)
    return step


def _dec2hex(width: int) -> Step:
    def step(card: str) -> str:
        if not card.isascii() or not card.isdigit():
            raise ConversionError("dec2hex needs decimal digits only")
        return format(int(card), "X").zfill(width)
    return step


def _reverse_bytes(card: str) -> str:
    if not HEX.fullmatch(card):
        raise ConversionError("reverse-bytes needs hex digits only")
    padded = card if len(card) % 2 == 0 else "0" + card
    return "".join(reversed([padded[i:i + 2] for i in range(0, len(padded), 2)]))


def _ascii(card: str) -> str:
    try:
        text = binascii.unhexlify(card).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ConversionError("ascii needs pairs of hex digits that spell printable text") \
            from exc
    if not text.isprintable():
        raise ConversionError("ascii needs pairs of hex digits that spell printable text")
    return text


def _strip(chars: str | None) -> Step:
    def step(card: str) -> str:
        out = card.strip()
        return out.lstrip(chars).strip() if chars else out
    return step


def _regex(pattern: str) -> Step:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConversionConfigError(f"conversion step 'regex:{pattern}' has a bad pattern: "
                                    f"{exc}") from exc

    def step(card: str) -> str:
        match = compiled.search(card)
        if match is None:
            raise ConversionError("the card number does not match the reader's pattern")
        return match.group(1) if compiled.groups else match.group(0)
    return step


KNOWN = ("hex2dec", "dec2hex", "reverse-bytes", "ascii", "strip", "regex", "lower", "upper")


def parse_step(text: str) -> Step:
    name, sep, arg = text.partition(":")
    name = name.strip().lower()
    argument = arg if sep else None
    simple: dict[str, Step] = {"reverse-bytes": _reverse_bytes, "ascii": _ascii,
                               "lower": str.lower, "upper": str.upper}
    if name in simple:
        if argument is not None:
            raise ConversionConfigError(f"conversion step '{text}': '{name}' takes no "
                                        "argument after a colon")
        return simple[name]
    if name == "hex2dec":
        return _hex2dec(_width(name, argument))
    if name == "dec2hex":
        return _dec2hex(_width(name, argument))
    if name == "strip":
        return _strip(argument)
    if name == "regex":
        if not argument:
            raise ConversionConfigError("conversion step 'regex:' needs a pattern after the "
                                        "colon")
        return _regex(argument)
    raise ConversionConfigError(f"unknown conversion step '{text}'; known steps are: "
                                f"{', '.join(KNOWN)}")


@dataclass(frozen=True)
class Chain:
    """Steps applied in order; an empty chain leaves the card as the reader gave it."""

    steps: tuple[str, ...]
    _funcs: tuple[Step, ...]

    def apply(self, card: str) -> str:
        for text, func in zip(self.steps, self._funcs, strict=True):
            try:
                card = func(card)
            except ConversionError as exc:
                raise ConversionError(f"step '{text}': {exc}") from exc
        if not card:
            raise ConversionError("the card number is empty after conversion")
        return card


def parse_chain(steps: Sequence[str]) -> Chain:
    """Build a chain from config, failing on the first unusable step with the reason."""
    return Chain(tuple(steps), tuple(parse_step(s) for s in steps))
