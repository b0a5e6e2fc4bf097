"""QR codes as inline SVG, so a phone can scan the set-up page off a laptop screen."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    """An SVG element (no script, no style attribute: it passes the page's CSP)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))
