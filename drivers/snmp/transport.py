"""SNMP v1/v2c over asyncio UDP: one socket per printer, timeouts, retries, request ids.

A retry resends the same request with the same request-id, so an answer to the first try
that arrives late still completes it (printers that miss a request answer the retry
seconds later). Datagrams that are not SNMP, or not an answer to a request in flight, are
dropped with a debug line and never raise; undecodable ones are counted, so a request that
times out although the printer sent something can say "answered with data that is not
SNMP" rather than "no answer".
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from drivers.snmp.message import Message, Pdu, PduType, SnmpDecodeError, Version

log = logging.getLogger("pagetally.drivers.snmp")


class SnmpTransportError(Exception):
    """A request that got no usable answer; the message says why in plain words."""


class NoAnswer(SnmpTransportError):
    """Every try timed out. `junk` counts datagrams that came back but were not SNMP."""

    def __init__(self, message: str, junk: int) -> None:
        super().__init__(message)
        self.junk = junk


class ClientClosed(SnmpTransportError):
    """The client was closed while the request waited."""


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: SnmpClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.client.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the request times out as with a silent host.
        log.debug("SNMP socket to %s: %s", self.client.address, exc)


class SnmpClient:
    """A manager's side of SNMP v1/v2c to one agent. Safe for concurrent requests from
    one event loop: answers are matched to requests by request-id."""

    def __init__(self, host: str, port: int = 161, *, community: bytes = b"public",
                 version: Version = Version.V2C, timeout: float = 1.0,
                 retries: int = 0) -> None:
        self.host = host
        self.port = port
        self.community = community
        self.version = version
        self.timeout = timeout
        self.retries = retries
        self.junk = 0
        """Datagrams received that were not an SNMP message of our version."""
        self._transport: asyncio.DatagramTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._opening: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._next_id = secrets.randbelow(2**31)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    async def _open(self) -> asyncio.DatagramTransport:
        """The socket, opened on first use in the running loop (again after a close, or
        when called from another loop than the one it was opened in)."""
        loop = asyncio.get_running_loop()
        if self._opening is None or self._opening[0] is not loop:
            self._opening = (loop, asyncio.Lock())
        async with self._opening[1]:  # two first requests at once open one socket
            if (self._transport is None or self._transport.is_closing()
                    or self._loop is not loop):
                self.close()
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self), remote_addr=(self.host, self.port))
                self._transport, self._loop = transport, loop
            return self._transport

    def _request_id(self) -> int:
        self._next_id = (self._next_id + 1) % 2**31
        return self._next_id

    async def request(self, pdu: Pdu) -> Pdu:
        """Send `pdu` (its request-id is replaced by a fresh one) and return the answer.

        Raises NoAnswer after 1 + retries tries of `timeout` s each, ClientClosed, OSError
        when the socket cannot be opened, and BerEncodeError for a PDU that cannot be sent.
        """
        request_id = self._request_id()
        data = Message(self.version, self.community,
                       Pdu(pdu.type, request_id, pdu.error_status, pdu.error_index,
                           pdu.var_binds)).to_bytes()
        transport = await self._open()
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        junk_before = self.junk
        try:
            for _ in range(self.retries + 1):
                transport.sendto(data)
                done, _ = await asyncio.wait((future,), timeout=self.timeout)
                if done:
                    return future.result()
        finally:
            self._pending.pop(request_id, None)
        tries = f" ({self.retries + 1} tries)" if self.retries else ""
        raise NoAnswer(f"no answer from {self.address} within {self.timeout:g} s{tries}",
                       self.junk - junk_before)

    def received(self, data: bytes, addr: object) -> None:
        """One datagram from the agent: completes the request it answers, if any."""
        try:
            message = Message.from_bytes(data)
        except SnmpDecodeError as exc:
            self.junk += 1
            log.debug("dropped a malformed SNMP answer from %s: %s", addr, exc)
            return
        pdu = message.pdu
        if message.version != self.version or pdu.type is not PduType.RESPONSE:
            self.junk += 1
            log.debug("dropped an SNMP %s %s from %s: not an answer to our %s requests",
                      message.version.name, pdu.type.name, addr, self.version.name)
            return
        future = self._pending.get(pdu.request_id)
        if future is None or future.done():
            log.debug("dropped an SNMP answer from %s to request %d, which is not waiting",
                      addr, pdu.request_id)
            return
        future.set_result(pdu)

    def close(self) -> None:
        """Close the socket; requests still waiting fail with ClientClosed. The client
        opens a new socket on its next request."""
        if self._loop is not None and self._loop.is_closed():
            # Nothing can wait in a closed loop; its transport's socket is closed when the
            # transport is collected (closing it here would schedule on the dead loop).
            self._pending.clear()
        else:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ClientClosed(f"the SNMP client for {self.address} "
                                                      "was closed"))
            if self._transport is not None:
                self._transport.close()
        self._transport = None
        self._loop = None
