"""US keyboard layout for keyboard-wedge card readers: key code + shift → character.

Wedge readers "type" the card number as a USB keyboard would. They almost always assume
a US layout, so we decode that layout ourselves instead of trusting the host's keymap.
"""

from __future__ import annotations

from evdev import ecodes

_PAIRS: dict[str, tuple[str, str]] = {
    "KEY_1": ("1", "!"), "KEY_2": ("2", "@"), "KEY_3": ("3", "#"), "KEY_4": ("4", "$"),
    "KEY_5": ("5", "%"), "KEY_6": ("6", "^"), "KEY_7": ("7", "&"), "KEY_8": ("8", "*"),
    "KEY_9": ("9", "("), "KEY_0": ("0", ")"),
    "KEY_MINUS": ("-", "_"), "KEY_EQUAL": ("=", "+"),
    "KEY_LEFTBRACE": ("[", "{"), "KEY_RIGHTBRACE": ("]", "}"), "KEY_BACKSLASH": ("\\", "|"),
    "KEY_SEMICOLON": (";", ":"), "KEY_APOSTROPHE": ("'", '"'), "KEY_GRAVE": ("`", "~"),
    "KEY_COMMA": (",", "<"), "KEY_DOT": (".", ">"), "KEY_SLASH": ("/", "?"),
    "KEY_SPACE": (" ", " "),
    "KEY_KPMINUS": ("-", "-"), "KEY_KPPLUS": ("+", "+"), "KEY_KPASTERISK": ("*", "*"),
    "KEY_KPSLASH": ("/", "/"), "KEY_KPDOT": (".", "."),
}
for _letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _PAIRS[f"KEY_{_letter}"] = (_letter.lower(), _letter)
for _digit in "0123456789":
    _PAIRS[f"KEY_KP{_digit}"] = (_digit, _digit)

#: key code → (unshifted, shifted) character
US_KEYMAP: dict[int, tuple[str, str]] = {ecodes.ecodes[name]: pair for name, pair in _PAIRS.items()}

SHIFT_KEYS: frozenset[int] = frozenset({ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT})

DEFAULT_TERMINATORS: frozenset[int] = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})


def char_for(code: int, shifted: bool) -> str | None:
    """The character a key types, or None when the US layout has no character for it."""
    pair = US_KEYMAP.get(code)
    if pair is None:
        return None
    return pair[1] if shifted else pair[0]


def key_code(name: str) -> int:
    """Resolve a key name such as "KEY_ENTER" from config; plain-words error if unknown."""
    code = ecodes.ecodes.get(name.strip().upper())
    if not isinstance(code, int) or not name.strip().upper().startswith("KEY_"):
        raise ValueError(f"{name!r} is not a key name (expected something like KEY_ENTER)")
    return code
