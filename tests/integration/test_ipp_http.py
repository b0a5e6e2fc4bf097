"""The IPP client's HTTP transport: keep-alive reuse, stale connections, framing, junk."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import h11
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.ipp.client import IppClient
from drivers.ipp.errors import IppError, IppProtocolError, IppUnreachable
from drivers.ipp.http import MAX_ANSWER, HttpConnection
from drivers.ipp.models import JobState
from simulator.client import SimClient
from tests.helpers import SimHandle, serve_ipp


class OneRequestProxy:
    """A TCP proxy to the simulator that closes each client connection, unanswered, when a
    second request arrives on it: a keep-alive connection the server dropped while idle."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.connections = 0
        self.dropped = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        answered = asyncio.Event()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                answered.set()

        pump = asyncio.create_task(downstream())
        try:
            while data := await reader.read(65536):
                if answered.is_set():
                    self.dropped += 1
                    break
                up_writer.write(data)
        finally:
            pump.cancel()
            up_writer.close()
            writer.close()


@pytest.fixture
async def proxy(sim: SimHandle) -> AsyncIterator[tuple[OneRequestProxy, str]]:
    p = OneRequestProxy(sim.http_port)
    port = await p.start()
    assert p.server is not None
    async with p.server:
        yield p, sim.ipp.replace(f":{sim.http_port}/", f":{port}/")


async def test_connections_are_kept_alive(sim: SimHandle) -> None:
    ports = set()
    async with IppClient(sim.ipp) as ipp:
        for _ in range(5):
            await ipp.printer()
            await ipp.jobs()
            [conn] = ipp._http._idle
            ports.add(conn.writer.get_extra_info("sockname")[1])
    assert len(ports) == 1


async def test_a_dropped_idle_connection_is_retried_for_reads(
        proxy: tuple[OneRequestProxy, str]) -> None:
    p, uri = proxy
    async with IppClient(uri) as ipp:
        first = await ipp.printer()
        second = await ipp.printer()
    assert first.name == second.name
    assert p.dropped == 1 and p.connections == 2


async def test_a_release_is_never_sent_twice(proxy: tuple[OneRequestProxy, str],
                                             sim_client: SimClient) -> None:
    p, uri = proxy
    job_id = sim_client.submit("held.pdf", "alice", 3, hold=True)
    async with IppClient(uri) as ipp:
        assert (await ipp.job(job_id)).state == JobState.PENDING_HELD
        with pytest.raises(IppUnreachable, match="closed the connection without answering"):
            await ipp.release(job_id)
        assert p.dropped == 1 and p.connections == 1
        assert (await ipp.job(job_id)).state == JobState.PENDING_HELD


async def test_chunked_answers_are_read_whole(sim: SimHandle) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        async with IppClient(sim.ipp) as upstream:
            raw = await upstream._http.post(await request.read(), "application/ipp",
                                            idempotent=True)
        resp = web.StreamResponse(headers={"Content-Type": "application/ipp"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(0, len(raw.body), 7):
            await resp.write(raw.body[i:i + 7])
        await resp.write_eof()
        return resp

    runner, uri = await serve_ipp(chunked)
    try:
        async with IppClient(uri) as ipp:
            printer = await ipp.printer()
        async with IppClient(sim.ipp) as direct:
            expected = await direct.printer()
        assert printer.impressions_completed is not None
        assert (printer.name, printer.impressions_completed) == (
            expected.name, expected.impressions_completed)
    finally:
        await runner.cleanup()


async def test_an_oversized_answer_is_refused() -> None:
    async def huge(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b"\0" * (MAX_ANSWER + 1), content_type="application/ipp")

    runner, uri = await serve_ipp(huge)
    try:
        async with IppClient(uri) as ipp:
            with pytest.raises(IppProtocolError, match="over 8 MB"):
                await ipp.printer()
    finally:
        await runner.cleanup()


async def test_unknown_host_is_unreachable_in_plain_words() -> None:
    async with IppClient("ipp://no-such-printer.invalid/ipp/print", timeout=5) as ipp:
        with pytest.raises(IppUnreachable, match="cannot connect to the printer at ipp://no-"):
            await ipp.printer()


def _answer_to(junk: bytes) -> BaseException | None:
    """Feed `junk` as the whole HTTP answer over a real socket pair; return what was raised."""
    async def run() -> BaseException | None:
        ours, theirs = socket.socketpair()
        theirs.sendall(junk)
        theirs.shutdown(socket.SHUT_WR)
        reader, writer = await asyncio.open_connection(sock=ours)
        conn = HttpConnection(reader, writer)
        request = h11.Request(method="POST", target="/", headers=[("Host", "x"),
                                                                  ("Content-Length", "0")])
        try:
            await conn.exchange(request, b"", "the printer")
        except IppError as exc:
            return exc
        finally:
            conn.close()
            theirs.close()
        return None

    return asyncio.run(run())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.builds(lambda head, body: b"HTTP/1.1 200 OK\r\n" + head + b"\r\n\r\n" + body,
              st.binary(max_size=80), st.binary(max_size=80)),
    st.builds(lambda n, body: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              + n + b"\r\n" + body, st.binary(max_size=8), st.binary(max_size=80)),
))
def test_junk_answers_raise_only_ipp_errors(junk: bytes) -> None:
    outcome = _answer_to(junk)
    assert outcome is None or isinstance(outcome, IppError)
    if outcome is not None:
        assert "the printer" in str(outcome)
