"""A QR code drawn straight into a Kivy texture, so no image file or PIL step is needed."""

from __future__ import annotations

import qrcode
from kivy.graphics.texture import Texture

QUIET_ZONE = 4  # modules of white border that scanners need


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR modules for `text`, with the quiet zone included."""
    code = qrcode.QRCode(border=QUIET_ZONE, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def qr_texture(text: str, module_px: int = 8) -> Texture:
    """A black-on-white texture, `module_px` pixels per module, nearest-neighbour sharp."""
    matrix = qr_matrix(text)
    size = len(matrix) * module_px
    rows = bytearray()
    for row in reversed(matrix):  # textures start at the bottom row
        line = bytearray()
        for dark in row:
            line += (b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff") * module_px
        rows += bytes(line) * module_px
    texture = Texture.create(size=(size, size), colorfmt="rgba")
    texture.blit_buffer(bytes(rows), colorfmt="rgba", bufferfmt="ubyte")
    texture.mag_filter = texture.min_filter = "nearest"
    return texture
