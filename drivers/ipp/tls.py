"""TLS to a printer: the public CA store, or one pinned certificate.

Printers mostly ship a self-signed certificate that no CA store trusts. Turning
verification off would let anyone on the network pose as the printer, so the choice
offered is the one browsers and CUPS make: pin that one certificate by its SHA-256
fingerprint, as the printer's own status page shows it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import ssl

_HEX = re.compile(r"[0-9a-f]{64}")


def parse_fingerprint(text: str) -> bytes:
    """"sha256:AB:CD:…", "AB:CD:…" or plain hex, in any case; ValueError in plain words."""
    digits = text.strip().lower().removeprefix("sha256:").replace(":", "").replace(" ", "")
    if not _HEX.fullmatch(digits):
        raise ValueError("a certificate fingerprint must be SHA-256: 64 hex digits, colons "
                         f"allowed, optionally after 'sha256:'; got {text!r}")
    return bytes.fromhex(digits)


def fingerprint_text(digest: bytes) -> str:
    """The form `openssl x509 -fingerprint -sha256` and printers' web pages show."""
    return "sha256:" + ":".join(f"{b:02X}" for b in digest)


def client_context(*, pinned: bool) -> ssl.SSLContext:
    """The CA store by default. With a pin, the chain is not checked against CAs; the
    certificate itself is, after the handshake (see `pin_mismatch`)."""
    context = ssl.create_default_context()
    if pinned:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _peer_digest(writer: asyncio.StreamWriter) -> bytes | None:
    ssl_object = writer.get_extra_info("ssl_object")
    der = None if ssl_object is None else ssl_object.getpeercert(binary_form=True)
    return None if der is None else hashlib.sha256(der).digest()


def pin_mismatch(writer: asyncio.StreamWriter, pinned: bytes) -> str | None:
    """Why the connection's certificate is not the pinned one, or None if it is."""
    digest = _peer_digest(writer)
    if digest is None:
        return "it presented no certificate"
    if digest != pinned:
        return (f"its certificate is {fingerprint_text(digest)}, not the pinned "
                f"{fingerprint_text(pinned)}")
    return None


async def presented_fingerprint(host: str, port: int, timeout: float) -> str | None:
    """The fingerprint a server presents, unverified: only to put in an error message, so
    the technician can compare it with the one on the printer's own status page."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port,
                                                      ssl=client_context(pinned=True))
    except (OSError, TimeoutError):
        return None
    try:
        digest = _peer_digest(writer)
        return None if digest is None else fingerprint_text(digest)
    finally:
        writer.close()
