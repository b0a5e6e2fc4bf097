"""pysnmp's asyncio UDP transport, made to survive malformed datagrams.

pysnmp 7.1 lets some malformed BER escape as TypeError/ValueError from pyasn1, which asyncio
prints as a traceback per datagram. The simulator's agent drops such datagrams quietly, as
a printer would. (This lived in drivers.snmp.transport while the agent read printers with
pysnmp; the agent now has its own codec and only the simulator uses pysnmp.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pyasn1.error import PyAsn1Error
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.error import PySnmpError

log = logging.getLogger("pagetally.sim.snmp")


class _DropMalformed:
    loop: asyncio.AbstractEventLoop
    _callback_function: Callable[..., None] | None

    def datagram_received(self, datagram: bytes, address: Any) -> None:
        self.loop.call_soon(self._deliver, address, datagram)

    def _deliver(self, address: Any, datagram: bytes) -> None:
        if self._callback_function is None:
            return
        try:
            self._callback_function(self, address, datagram)
        except (PyAsn1Error, PySnmpError, TypeError, ValueError) as exc:
            log.debug("dropped a malformed SNMP datagram from %s: %s", address, exc)


class GuardedUdp(_DropMalformed, udp.UdpAsyncioTransport):
    pass


class GuardedUdp6(_DropMalformed, udp6.Udp6AsyncioTransport):
    pass
