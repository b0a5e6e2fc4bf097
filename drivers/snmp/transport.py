"""UDP client transport that survives malformed answers from buggy printer firmware.

pysnmp 7.1 lets some malformed BER escape as TypeError/ValueError from pyasn1, which asyncio
prints as a traceback per datagram. Here such datagrams are dropped quietly, and every
datagram received is counted, so when a request times out although the printer sent
something, the reader can say "answered with data that is not SNMP", not "no answer".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pyasn1.error import PyAsn1Error
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import Udp6TransportTarget, UdpTransportTarget

log = logging.getLogger("pagetally.drivers.snmp")


class _DropMalformed:
    loop: asyncio.AbstractEventLoop
    _callback_function: Callable[..., None] | None
    received: int = 0

    def datagram_received(self, datagram: bytes, address: Any) -> None:
        self.received += 1
        self.loop.call_soon(self._deliver, address, datagram)

    def _deliver(self, address: Any, datagram: bytes) -> None:
        if self._callback_function is None:
            return
        try:
            self._callback_function(self, address, datagram)
        except (PyAsn1Error, PySnmpError, TypeError, ValueError) as exc:
            log.debug("dropped a malformed SNMP answer from %s: %s", address, exc)


class GuardedUdp(_DropMalformed, udp.UdpAsyncioTransport):
    pass


class GuardedUdp6(_DropMalformed, udp6.Udp6AsyncioTransport):
    pass


class GuardedUdpTarget(UdpTransportTarget):
    PROTO_TRANSPORT = GuardedUdp


class GuardedUdp6Target(Udp6TransportTarget):
    PROTO_TRANSPORT = GuardedUdp6


def received_count(target: UdpTransportTarget | Udp6TransportTarget | None) -> int:
    """Datagrams received so far on this target's socket (0 before it is opened)."""
    transport = getattr(target, "transport", None)
    return transport.received if isinstance(transport, _DropMalformed) else 0
