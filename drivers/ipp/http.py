"""HTTP/1.1 for IPP's one request shape: POST application/ipp, read the whole answer.

Not aiohttp: importing it costs the agent about 10 MB of resident memory (measured), a sixth
of the device's budget, for one kind of POST. h11 (python-hyper's sans-I/O HTTP/1.1 state
machine) does the protocol work (framing, chunked bodies, keep-alive, malformed answers)
and asyncio streams carry the bytes. This module only keeps idle connections for reuse and
turns every failure into an IppError in plain words.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import h11

from drivers.ipp.errors import IppProtocolError, IppUnreachable
from drivers.ipp.tls import client_context, parse_fingerprint, pin_mismatch, presented_fingerprint

USER_AGENT = "PageTally/0.1"
READ_SIZE = 65536
MAX_ANSWER = 8 * 2**20
"""A larger answer means a broken printer; reading it would only cost the device memory."""
IDLE_REUSE_S = 4.0
"""Reuse a kept-alive connection only this long: servers drop idle ones after some seconds, and
a request sent into a connection the server is closing is lost. The agent polls more often."""


class BodySink(Protocol):
    """Where a large answer's body goes as it arrives, instead of into memory."""

    def write(self, data: bytes, /) -> object:
        """Take the next bytes of the body; raising stops the read and drops the connection."""

    def reset(self) -> None:
        """Forget what was written: the request is being sent again on a fresh connection."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    reason: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    path: str
    tls: bool

    @classmethod
    def from_uri(cls, uri: str) -> Endpoint:
        """ipp://host[:port]/path (ipps for TLS; http/https accepted too; port 631 by default)."""
        parts = urlsplit(uri)
        if parts.scheme not in ("ipp", "ipps", "http", "https") or not parts.hostname:
            raise ValueError(f"not an IPP printer URI: {uri!r}")
        return cls(parts.hostname, parts.port or 631, parts.path or "/",
                   parts.scheme in ("ipps", "https"))

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class HttpConnection:
    """One TCP (or TLS) connection and its h11 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()

    @property
    def reusable(self) -> bool:
        return (not self.reader.at_eof()
                and time.monotonic() - self.idle_since < IDLE_REUSE_S)

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, request: h11.Request, body: bytes, where: str, *,
                       sink: BodySink | None = None, limit: int = MAX_ANSWER) -> HttpAnswer:
        """Send one request and read its answer: the body in memory, or into `sink` (then the
        answer's body is empty). More than `limit` bytes of body is a protocol error."""
        wire = self.h11.send(request) + self.h11.send(h11.Data(data=body)) \
            + self.h11.send(h11.EndOfMessage())
        self.writer.write(wire)
        await self.writer.drain()
        head: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        received = False
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if not received:
                    raise IppUnreachable(f"{where} closed the connection without answering"
                                         ) from exc
                raise IppProtocolError(f"{where} sent a malformed HTTP answer: {exc}") from exc
            if event is h11.NEED_DATA:
                data = await self.reader.read(READ_SIZE)
                received = received or bool(data)
                self.h11.receive_data(data)
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > limit:
                    raise IppProtocolError(
                        f"{where} sent an answer over {_size(limit)}; not reading it")
                if sink is None:
                    chunks.append(bytes(event.data))
                else:
                    sink.write(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise IppUnreachable(f"{where} closed the connection without answering")
        assert head is not None  # h11 emits Response before any Data or EndOfMessage
        content_type = dict(head.headers).get(b"content-type", b"").decode("latin-1")
        return HttpAnswer(head.status_code, head.reason.decode("latin-1"),
                          content_type.split(";")[0].strip().lower(), b"".join(chunks))

    def next_cycle(self) -> bool:
        """Ready the connection for another request; False if either side will close it."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self.idle_since = time.monotonic()
            return True
        return False


class HttpPool:
    """POSTs to one printer, reusing kept-alive connections between requests."""

    def __init__(self, uri: str, timeout: float, *, tls_fingerprint: str = "") -> None:
        """`tls_fingerprint` pins the printer's own certificate (ipps): see drivers.ipp.tls."""
        self.endpoint = Endpoint.from_uri(uri)
        self.where = f"the printer at {uri}"
        self.timeout = timeout
        self._idle: list[HttpConnection] = []
        self._pinned = parse_fingerprint(tls_fingerprint) if tls_fingerprint else None
        self._tls: ssl.SSLContext | None = None

    async def post(self, body: bytes, content_type: str, *, idempotent: bool,
                   sink: BodySink | None = None, limit: int = MAX_ANSWER,
                   timeout: float | None = None) -> HttpAnswer:
        """Send one request. A reused connection that the server closed before reading it is
        retried on a fresh one, but only for an idempotent request: a Release-Job sent twice
        must not be possible. `sink`, `limit` and `timeout` (the pool's by default) are for
        answers larger than a printer's attributes: a job's document."""
        timeout = self.timeout if timeout is None else timeout
        request = h11.Request(method="POST", target=self.endpoint.path, headers=[
            ("Host", self.endpoint.host_header), ("User-Agent", USER_AGENT),
            ("Content-Type", content_type), ("Content-Length", str(len(body))),
        ])
        try:
            async with asyncio.timeout(timeout):
                conn, reused = await self._take()
                try:
                    answer = await self._exchange(conn, request, body, sink, limit)
                except IppUnreachable:
                    if not (reused and idempotent):
                        raise
                    if sink is not None:
                        sink.reset()
                    conn = await self._open()
                    answer = await self._exchange(conn, request, body, sink, limit)
        except TimeoutError as exc:
            raise IppUnreachable(f"{self.where} did not answer within {timeout:g} s") from exc
        self._give_back(conn)
        return answer

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def _exchange(self, conn: HttpConnection, request: h11.Request, body: bytes,
                        sink: BodySink | None, limit: int) -> HttpAnswer:
        try:
            return await conn.exchange(request, body, self.where, sink=sink, limit=limit)
        except ConnectionError as exc:
            conn.close()
            raise IppUnreachable(f"lost the connection to {self.where}: {_reason(exc)}"
                                 ) from exc
        except BaseException:
            conn.close()
            raise

    async def _take(self) -> tuple[HttpConnection, bool]:
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable:
                return conn, True
            conn.close()
        return await self._open(), False

    async def _open(self) -> HttpConnection:
        ep = self.endpoint
        if ep.tls and self._tls is None:
            self._tls = client_context(pinned=self._pinned is not None)
        try:
            reader, writer = await asyncio.open_connection(
                ep.host, ep.port, ssl=self._tls if ep.tls else None)
        except ssl.SSLCertVerificationError as exc:
            raise IppUnreachable(await self._untrusted(exc)) from exc
        except ssl.SSLError as exc:
            raise IppUnreachable(f"TLS with {self.where} failed: {exc.reason or exc}") from exc
        except OSError as exc:
            raise IppUnreachable(f"cannot connect to {self.where}: {_reason(exc)}") from exc
        if ep.tls and self._pinned is not None:
            mismatch = pin_mismatch(writer, self._pinned)
            if mismatch:
                writer.close()
                raise IppUnreachable(f"refused {self.where}: {mismatch}; if the printer has "
                                     "a new certificate, update [printer] tls_fingerprint")
        return HttpConnection(reader, writer)

    async def _untrusted(self, exc: ssl.SSLCertVerificationError) -> str:
        """Most printers present a certificate of their own making: say how to pin it."""
        presented = await presented_fingerprint(self.endpoint.host, self.endpoint.port,
                                                self.timeout)
        seen = f"; it presents {presented}" if presented else ""
        return (f"TLS with {self.where} failed: {exc.verify_message or exc.reason}. A printer "
                "with a certificate of its own needs [printer] tls_fingerprint, checked "
                f"against the one on the printer's status page{seen}")

    def _give_back(self, conn: HttpConnection) -> None:
        if conn.next_cycle():
            self._idle.append(conn)
        else:
            conn.close()


def _size(n: int) -> str:
    return f"{n // 2**20} MB" if n >= 2**20 else f"{n} bytes"


def _reason(exc: OSError) -> str:
    """The OS's words ("Connection refused"), not asyncio's "Connect call failed (...)"."""
    if isinstance(exc, socket.gaierror) or not exc.errno:
        return exc.strerror or str(exc) or type(exc).__name__
    return os.strerror(exc.errno)
