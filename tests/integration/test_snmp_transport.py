"""SnmpClient's timeouts, retries and request-id matching, against a scripted UDP printer.

The peer is a real socket on loopback that decides per request what to send back: nothing,
junk, a stray answer, a late one, or answers out of order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

import pytest
from pysnmp.proto import rfc1902

from drivers.snmp import SnmpReader
from drivers.snmp.message import Message, Pdu, PduType, VarBind, Version, get_request
from drivers.snmp.transport import ClientClosed, NoAnswer, SnmpClient
from drivers.snmp.values import Counter32
from simulator.snmp_agent import serve
from simulator.snmp_walk import WalkInstrumentation

LIFE = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1)
TIMEOUT = 0.3
Script = Callable[["Peer", Message], list[tuple[float, bytes]]]
StartPeer = Callable[[Script], Awaitable[tuple["Peer", int]]]


def answer(request: Message, count: int = 7, *, request_id: int | None = None,
           version: Version | None = None) -> bytes:
    """A GetResponse carrying `count` for each var-bind asked."""
    pdu = Pdu(PduType.RESPONSE, request.pdu.request_id if request_id is None else request_id,
              var_binds=tuple(VarBind(vb.oid, Counter32(count)) for vb in request.pdu.var_binds))
    return Message(request.version if version is None else version, request.community,
                   pdu).to_bytes()


class Peer(asyncio.DatagramProtocol):
    """Answers each datagram with what `script` says: (delay in s, bytes) pairs."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests.append(data)
        loop = asyncio.get_running_loop()
        for delay, reply in self.script(self, Message.from_bytes(data)):
            loop.call_later(delay, self._send, reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


@pytest.fixture
async def start_peer() -> AsyncIterator[StartPeer]:
    transports: list[asyncio.DatagramTransport] = []

    async def start(script: Script) -> tuple[Peer, int]:
        loop = asyncio.get_running_loop()
        transport, peer = await loop.create_datagram_endpoint(lambda: Peer(script),
                                                              local_addr=("127.0.0.1", 0))
        transports.append(transport)
        return peer, transport.get_extra_info("sockname")[1]

    yield start
    for transport in transports:
        transport.close()


async def test_a_retry_resends_the_same_request(start_peer: StartPeer) -> None:
    peer, port = await start_peer(lambda p, m: [(0, answer(m))] if len(p.requests) == 2 else [])
    client = SnmpClient("127.0.0.1", port, timeout=TIMEOUT, retries=1)
    try:
        pdu = await client.request(get_request(0, [LIFE]))
    finally:
        client.close()
    assert pdu.var_binds == (VarBind(LIFE, Counter32(7)),)
    assert len(peer.requests) == 2 and peer.requests[0] == peer.requests[1]


async def test_a_late_answer_to_the_first_try_completes_it(start_peer: StartPeer) -> None:
    """The printer answers try 1 after the timeout, while try 2 waits: that answer counts."""
    peer, port = await start_peer(
        lambda p, m: [(TIMEOUT * 1.5, answer(m))] if len(p.requests) == 1 else [])
    client = SnmpClient("127.0.0.1", port, timeout=TIMEOUT, retries=1)
    started = time.monotonic()
    try:
        pdu = await client.request(get_request(0, [LIFE]))
    finally:
        client.close()
    assert pdu.var_binds[0].value == Counter32(7)
    assert TIMEOUT * 1.4 < time.monotonic() - started < TIMEOUT * 2
    assert len(peer.requests) == 2


async def test_stray_answers_and_junk_are_dropped(start_peer: StartPeer,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    def script(peer: Peer, m: Message) -> list[tuple[float, bytes]]:
        return [(0, answer(m, 1, request_id=m.pdu.request_id + 1)),  # another request's
                (0, b"\x30\x03\x02\x01"),  # not SNMP
                (0, answer(m, 2, version=Version.V1)),  # the wrong version
                (0.05, answer(m, 3))]

    _, port = await start_peer(script)
    client = SnmpClient("127.0.0.1", port, timeout=TIMEOUT)
    caplog.set_level(logging.DEBUG, logger="pagetally.drivers.snmp")
    try:
        pdu = await client.request(get_request(0, [LIFE]))
    finally:
        client.close()
    assert pdu.var_binds[0].value == Counter32(3)
    assert client.junk == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("which is not waiting" in m for m in messages)
    assert any(m.startswith("dropped a malformed SNMP answer") and "not an SNMP message" in m
               for m in messages)
    assert any("dropped an SNMP V1 RESPONSE" in m for m in messages)
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


async def test_concurrent_requests_get_their_own_answers(start_peer: StartPeer) -> None:
    """Answers come back in reverse order; each goes to the request it answers."""
    def script(peer: Peer, m: Message) -> list[tuple[float, bytes]]:
        n = len(peer.requests)
        return [(0.2 - 0.04 * n, answer(m, 100 + m.pdu.var_binds[0].oid[-1]))]

    _, port = await start_peer(script)
    client = SnmpClient("127.0.0.1", port, timeout=1.0)
    try:
        pdus = await asyncio.gather(*(client.request(get_request(0, [(*LIFE[:-1], i)]))
                                      for i in range(1, 5)))
    finally:
        client.close()
    assert [p.var_binds[0].value for p in pdus] == [Counter32(100 + i) for i in range(1, 5)]
    assert len({p.request_id for p in pdus}) == 4


async def test_no_answer_counts_tries_and_junk(start_peer: StartPeer) -> None:
    _, silent = await start_peer(lambda p, m: [])
    _, junk = await start_peer(lambda p, m: [(0, b"garbage\n")])
    for port, junk_seen in ((silent, 0), (junk, 2)):
        client = SnmpClient("127.0.0.1", port, timeout=TIMEOUT, retries=1)
        started = time.monotonic()
        try:
            with pytest.raises(NoAnswer) as caught:
                await client.request(get_request(0, [LIFE]))
        finally:
            client.close()
        assert str(caught.value) == (f"no answer from 127.0.0.1:{port} within {TIMEOUT:g} s "
                                     "(2 tries)")
        assert caught.value.junk == junk_seen
        assert time.monotonic() - started >= 2 * TIMEOUT


async def test_close_wakes_a_waiting_request(start_peer: StartPeer) -> None:
    peer, port = await start_peer(lambda p, m: [])
    client = SnmpClient("127.0.0.1", port, timeout=5.0)
    waiting = asyncio.create_task(client.request(get_request(0, [LIFE])))
    deadline = time.monotonic() + 2.0
    while not peer.requests:  # the request is sent and waits for its answer
        assert time.monotonic() < deadline, "the request never reached the peer"
        await asyncio.sleep(0.01)
    client.close()
    with pytest.raises(ClientClosed, match=f"the SNMP client for 127.0.0.1:{port} was closed"):
        await asyncio.wait_for(waiting, 1.0)


async def test_an_ipv6_printer() -> None:
    """A printer on an IPv6 address: pysnmp's agent on ::1, read through SnmpReader."""
    handle = await serve(WalkInstrumentation({LIFE: rfc1902.Counter32(5)}), "::1", 0, "public")
    reader = SnmpReader("::1", handle.port, timeout=1.0)
    try:
        assert await reader.life_count() == 5
        assert reader.address == f"[::1]:{handle.port}"
    finally:
        reader.close()
        handle.close()
