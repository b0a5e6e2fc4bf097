"""udev rules from the device list: each reader and the copier board gets a stable name
under /dev/pagetally/ (the agent's config points there) and group access for the agent."""

from __future__ import annotations

from provision.site import Device

HEADER = ("# PageTally: stable names for the card readers and the copier board.\n"
          "# Written by `pagetally provision`; the agent's config uses /dev/pagetally/NAME.\n")


def reader_path(name: str) -> str:
    return f"/dev/pagetally/{name}"


COPIER_PATH = "/dev/pagetally/copier"


def rules(device: Device) -> str:
    lines = [HEADER]
    for r in device.readers:
        subsystem = "tty" if r.kind == "serial" else "input"
        # evdev: only the event node (not mouseN/jsN) of that USB device.
        kernel = ', KERNEL=="event*"' if r.kind == "evdev" else ""
        lines.append(f'SUBSYSTEM=="{subsystem}"{kernel}, ATTRS{{idVendor}}=="{r.usb_vendor}", '
                     f'ATTRS{{idProduct}}=="{r.usb_product}", SYMLINK+="pagetally/{r.name}", '
                     'GROUP="pagetally", MODE="0660"\n')
    board = device.copier_board
    if board is not None and board.port == "usb":
        lines.append(f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{board.usb_vendor}", '
                     f'ATTRS{{idProduct}}=="{board.usb_product}", SYMLINK+="pagetally/copier", '
                     'GROUP="pagetally", MODE="0660"\n')
    elif board is not None:
        # The GPIO UART (enabled by the rpi module; the serial console stays off).
        lines.append('SUBSYSTEM=="tty", KERNEL=="ttyAMA0", SYMLINK+="pagetally/copier", '
                     'GROUP="pagetally", MODE="0660"\n')
    return "".join(lines)
