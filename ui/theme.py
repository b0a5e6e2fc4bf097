"""Colours and sizes of the panel.

Colours are themeable from the site config (`[panel.theme]`, hex strings); sizes scale from
the 800x480 design so the same layouts serve 1024x600 and 1280x720. Touch targets never go
below 48 px.
"""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[float, float, float, float]

MIN_TOUCH_PX = 48
DESIGN_SIZE = (800, 480)
SIZES = {"800x480": (800, 480), "1024x600": (1024, 600), "1280x720": (1280, 720)}
SYMBOL_FONT = "DejaVuSans"


def hex_colour(text: str) -> RGBA:
    """'#rrggbb' or '#rrggbbaa' to Kivy's 0..1 floats; a bad value is a plain-words error."""
    digits = text.lstrip("#")
    if len(digits) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"colour {text!r} is not of the form #rrggbb or #rrggbbaa")
    if len(digits) == 6:
        digits += "ff"
    r, g, b, a = (int(digits[i:i + 2], 16) / 255 for i in range(0, 8, 2))
    return (r, g, b, a)


DEFAULT_COLOURS = {
    "background": "#f4f6f8",
    "surface": "#ffffff",
    "header": "#1f3a5f",
    "header_text": "#ffffff",
    "text": "#1b1f24",
    "muted": "#5a6470",
    "accent": "#1565c0",
    "accent_text": "#ffffff",
    "secondary": "#dfe5ec",
    "secondary_text": "#1b1f24",
    "danger": "#c62828",
    "danger_text": "#ffffff",
    "warning": "#f9a825",
    "success": "#2e7d32",
    "selected": "#d6e6fb",
    "overlay": "#000000a0",
}


@dataclass(frozen=True)
class Colours:
    background: RGBA
    surface: RGBA
    header: RGBA
    header_text: RGBA
    text: RGBA
    muted: RGBA
    accent: RGBA
    accent_text: RGBA
    secondary: RGBA
    secondary_text: RGBA
    danger: RGBA
    danger_text: RGBA
    warning: RGBA
    success: RGBA
    selected: RGBA
    overlay: RGBA

    @classmethod
    def with_overrides(cls, overrides: dict[str, str]) -> Colours:
        """Site colours from config over the defaults; unknown names are refused so typos
        do not go unseen."""
        unknown = sorted(set(overrides) - set(DEFAULT_COLOURS))
        if unknown:
            raise ValueError(f"unknown theme colour(s): {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(DEFAULT_COLOURS))}")
        merged = {**DEFAULT_COLOURS, **overrides}
        return cls(**{k: hex_colour(v) for k, v in merged.items()})


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one screen size; every layout reads these, none hard-codes sizes."""

    scale: float
    font_huge: float
    font_title: float
    font_body: float
    font_small: float
    button_h: float
    key_h: float
    header_h: float
    row_h: float
    pad: float
    spacing: float

    @classmethod
    def for_size(cls, width: int, height: int) -> Metrics:
        scale = min(width / DESIGN_SIZE[0], height / DESIGN_SIZE[1])
        return cls(
            scale=scale,
            font_huge=round(40 * scale),
            font_title=round(26 * scale),
            font_body=round(20 * scale),
            font_small=round(16 * scale),
            button_h=max(MIN_TOUCH_PX, round(64 * scale)),
            key_h=max(MIN_TOUCH_PX, round(68 * scale)),
            header_h=max(MIN_TOUCH_PX + 12, round(66 * scale)),
            row_h=max(MIN_TOUCH_PX, round(72 * scale)),
            pad=round(12 * scale),
            spacing=round(8 * scale),
        )


def parse_size(text: str) -> tuple[int, int]:
    """'800x480' to (800, 480), with a plain-words error for anything else."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 800x480") from None
    if width < 320 or height < 240:
        raise ValueError(f"size {text!r} is too small; the panel needs at least 320x240")
    return width, height
