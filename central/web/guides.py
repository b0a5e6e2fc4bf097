"""Printer addresses per operating system and the printing guides, worked out from the one
print queue the site gives (`portal.printer_uri`). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

IPP_PORT = 631


@dataclass(frozen=True, slots=True)
class Address:
    """One queue, spelled as each system's "add printer" dialog wants it."""

    ipp: str  # ipp:// or ipps://, for Linux (CUPS) and as the canonical form
    http: str  # http:// or https:// with the port, for Windows' "Add a printer"
    host: str  # host[:port], for macOS's IP tab and Android's "add by IP address"
    queue: str  # the path, for macOS's "Queue" field
    secure: bool


class AddressError(ValueError):
    """A printer URI the portal cannot offer, in plain words."""


def address(uri: str) -> Address:
    parts = urlsplit(uri.strip())
    if parts.scheme not in ("ipp", "ipps") or not parts.hostname:
        raise AddressError(f"{uri!r} is not a printer address: use ipp://HOST/PATH or"
                           " ipps://HOST/PATH")
    secure = parts.scheme == "ipps"
    port = parts.port or IPP_PORT
    host = parts.hostname if port == IPP_PORT else f"{parts.hostname}:{port}"
    path = parts.path or "/ipp/print"
    return Address(f"{parts.scheme}://{host}{path}",
                   f"{'https' if secure else 'http'}://{parts.hostname}:{port}{path}",
                   host, path.lstrip("/"), secure)


@dataclass(frozen=True, slots=True)
class Guide:
    key: str
    title: str
    steps: tuple[str, ...]


RELEASE = Guide("release", "Release at the printer", (
    "Walk up to the printer and wake the PageTally panel beside it.",
    "Sign in with your access code, or hold your card to the reader.",
    "Your held jobs are listed with their price. Tap the ones you want, then Print.",
    "The panel shows the pages as they come out. You pay for the pages the printer"
    " actually printed: a jam or a cancel part way is refunded automatically.",
    "Jobs you do not release are deleted after a few hours, at no charge.",
    "Sign out when you are done, or the panel does it for you after a short while.",
))


def print_guides(printer_name: str) -> tuple[Guide, ...]:
    """How to print from each system, once the printer is set up."""
    name = printer_name
    return (
        Guide("windows", "Windows", (
            "Open the document and choose File, then Print (Ctrl+P).",
            f"Pick the printer {name}, set copies, colour and two-sided, and press Print.",
            "The job waits for you: go to the printer and release it.")),
        Guide("macos", "macOS", (
            "Choose File, then Print (Command+P).",
            f"Pick {name} as the printer and press Print.",
            "The job waits for you: go to the printer and release it.")),
        Guide("linux", "Linux", (
            "Choose Print in the application (Ctrl+P), or run: lp -d PageTally FILE.",
            f"Pick {name} and press Print.",
            "The job waits for you: go to the printer and release it.")),
        Guide("ios", "iPhone and iPad", (
            "Tap the Share button, then Print.",
            f"Tap Printer and choose {name}, then tap Print.",
            "The job waits for you: go to the printer and release it.")),
        Guide("android", "Android", (
            "Open the menu of the app (often three dots) and choose Print, or Share, then"
            " Print.",
            f"Choose {name} at the top, then tap the print button.",
            "The job waits for you: go to the printer and release it.")),
        RELEASE,
    )
