"""IPP over TLS (ipps) to the real simulator, behind a certificate no CA store trusts, as
most printers' own certificates are: refused with the fix in plain words, or pinned."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from drivers.ipp.client import IppClient
from drivers.ipp.errors import IppUnreachable
from drivers.ipp.tls import fingerprint_text
from tests.helpers import SimHandle
from tests.tls_front import TlsFront, tls_front


@pytest.fixture
async def front(sim: SimHandle) -> AsyncIterator[TlsFront]:
    async with tls_front(sim.http_port) as made:
        yield made


async def test_an_untrusted_certificate_is_refused_with_its_fingerprint(
        front: TlsFront) -> None:
    async with IppClient(front.uri, timeout=5) as printer:
        with pytest.raises(IppUnreachable) as refused:
            await printer.printer()
    message = str(refused.value)
    assert message.startswith(f"TLS with the printer at {front.uri} failed: unable to get "
                              "local issuer certificate.")
    assert "needs [printer] tls_fingerprint" in message
    assert message.endswith(f"it presents {front.fingerprint}")


async def test_the_pinned_certificate_is_trusted(front: TlsFront, sim: SimHandle) -> None:
    pin = front.fingerprint.removeprefix("sha256:").lower()  # any spelling will do
    async with IppClient(front.uri, timeout=5, tls_fingerprint=pin) as printer:
        info = await printer.printer()
        again = await printer.printer()  # over the kept-alive TLS connection
    assert info.name == again.name == "pagetally-sim"
    assert info.impressions_completed == 0


async def test_another_certificate_than_the_pinned_one_is_refused(front: TlsFront) -> None:
    other = fingerprint_text(bytes(32))
    async with IppClient(front.uri, timeout=5, tls_fingerprint=other) as printer:
        with pytest.raises(IppUnreachable) as refused:
            await printer.printer()
    assert str(refused.value) == (
        f"refused the printer at {front.uri}: its certificate is {front.fingerprint}, "
        f"not the pinned {other}; if the printer has a new certificate, update [printer] "
        "tls_fingerprint")
