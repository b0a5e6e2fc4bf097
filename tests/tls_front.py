"""TLS in front of the simulator's IPP port, like a printer's built-in ipps endpoint, with
a certificate no CA store trusts (trustme's), as most printers' own certificates are."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trustme

from drivers.ipp.tls import fingerprint_text


@dataclass
class TlsFront:
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


@asynccontextmanager
async def tls_front(http_port: int) -> AsyncIterator[TlsFront]:
    """ipps:// to the simulator listening on `http_port`, for as long as the block runs."""
    cert = trustme.CA().issue_cert("printer.example", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", http_port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield TlsFront(f"ipps://127.0.0.1:{port}/ipp/print",
                       fingerprint_text(hashlib.sha256(der).digest()))
