"""IPP over TLS (ipps) to the real simulator, behind a certificate no CA store trusts, as
most printers' own certificates are: refused with the fix in plain words, or pinned."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import trustme

from drivers.ipp.client import IppClient
from drivers.ipp.errors import IppUnreachable
from drivers.ipp.tls import fingerprint_text
from tests.agent_env import agent_toml, make_env
from tests.e2e.conftest import printed, release_and_settle
from tests.helpers import SimHandle


@dataclass
class TlsFront:
    """TLS in front of the simulator's IPP port, like a printer's built-in ipps endpoint."""

    uri: str
    fingerprint: str  # as the printer's status page would show it


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def tls_front(sim: SimHandle) -> AsyncIterator[TlsFront]:
    async for front in _tls_front(sim):
        yield front


async def _tls_front(sim: SimHandle) -> AsyncIterator[TlsFront]:
    cert = trustme.CA().issue_cert("printer.example", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", sim.http_port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield TlsFront(f"ipps://127.0.0.1:{port}/ipp/print",
                       fingerprint_text(hashlib.sha256(der).digest()))


async def test_an_untrusted_certificate_is_refused_with_its_fingerprint(
        tls_front: TlsFront) -> None:
    async with IppClient(tls_front.uri, timeout=5) as printer:
        with pytest.raises(IppUnreachable) as refused:
            await printer.printer()
    message = str(refused.value)
    assert message.startswith(f"TLS with the printer at {tls_front.uri} failed: unable to get "
                              "local issuer certificate.")
    assert "needs [printer] tls_fingerprint" in message
    assert message.endswith(f"it presents {tls_front.fingerprint}")


async def test_the_pinned_certificate_is_trusted(tls_front: TlsFront, sim: SimHandle) -> None:
    pin = tls_front.fingerprint.removeprefix("sha256:").lower()  # any spelling will do
    async with IppClient(tls_front.uri, timeout=5, tls_fingerprint=pin) as printer:
        info = await printer.printer()
        again = await printer.printer()  # over the kept-alive TLS connection
    assert info.name == again.name == "pagetally-sim"
    assert info.impressions_completed == 0


async def test_another_certificate_than_the_pinned_one_is_refused(tls_front: TlsFront) -> None:
    other = fingerprint_text(bytes(32))
    async with IppClient(tls_front.uri, timeout=5, tls_fingerprint=other) as printer:
        with pytest.raises(IppUnreachable) as refused:
            await printer.printer()
    assert str(refused.value) == (
        f"refused the printer at {tls_front.uri}: its certificate is {tls_front.fingerprint}, "
        f"not the pinned {other}; if the printer has a new certificate, update [printer] "
        "tls_fingerprint")


async def test_the_agent_meters_a_job_over_ipps_with_a_pinned_certificate() -> None:
    env = make_env(start=False)
    try:
        async for front in _tls_front(env.sim):
            printer = (f'ipp_uri = "{front.uri}"\ntls_fingerprint = "{front.fingerprint}"\n'
                       f'snmp_host = "127.0.0.1"\nsnmp_port = {env.sim.snmp_port}\n'
                       'snmp_profile = "pagetally-sim"\n')
            env.config_text = agent_toml(env.dir, env.sim, printer=printer)
            env.start_agent()
            job = await env.submit("alice", "secure.pdf", 4)
            async with env.client(login="alice") as api:
                result = await release_and_settle(env, "alice", job, api)
            assert printed(env, job) == 4
            assert (result["charged"], result["refunded"], result["review"]) == (40, 0, False)
    finally:
        env.stop()
