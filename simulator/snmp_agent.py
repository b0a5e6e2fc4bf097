"""The simulator's SNMP v2c agent: a pysnmp command responder serving live engine values.

A custom MIB instrumentation controller (rather than MibScalarInstance objects) answers
GET/GETNEXT/GETBULK from a view rebuilt per request, so alert rows can come and go and
fault modes can change every answer, including not answering at all.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdrsp
from pysnmp.entity.rfc3413.context import SnmpContext
from pysnmp.error import PySnmpError
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from simulator.engine import Engine
from simulator.snmp_mib import AlertBook, MibView, active_faults, build_view, gen_err_oids
from simulator.snmp_udp import GuardedUdp, GuardedUdp6

log = logging.getLogger("pagetally.sim.snmp")

VarBind = tuple[Any, Any]


class SnmpStartError(OSError):
    """The agent could not start; the message says why in plain words."""


class _DropRequest(PySnmpError):
    """Raised to make pysnmp drop a request silently: the "timeout" fault mode.

    pysnmp's responder answers SmiError subclasses with an error PDU but swallows other
    PySnmpErrors without a reply, which is exactly what an unresponsive printer does.
    """


class LiveInstrumentation(AbstractMibInstrumController):
    """Reads the engine on every request; read-only."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.alerts = AlertBook()
        engine.add_listener(self._note_faults)

    def _note_faults(self) -> None:
        """Stamp prtAlertTime when a fault happens, not when a manager first looks."""
        self.alerts.update(active_faults(self.engine), int(self.engine.uptime_s * 100))

    def _view(self) -> MibView:
        mode = self.engine.snmp_mode()
        if mode == "timeout":
            raise _DropRequest("snmp fault mode 'timeout': request dropped")
        return build_view(self.engine, self.alerts, mode)

    def read_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        if self.engine.faults.snmp_drop_gets > 0:
            self.engine.faults.snmp_drop_gets -= 1
            raise _DropRequest("snmp fault snmp_drop_gets: request dropped")
        view = self._view()
        refused = gen_err_oids(self.engine)
        for idx, (name, _) in enumerate(var_binds):
            if tuple(name) in refused:  # quirk snmp_gen_err: the whole GET fails
                raise smi_error.GenError(name=name, idx=idx)
        return [(name, view.get(tuple(name))) for name, _ in var_binds]

    def read_next_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        view = self._view()
        answers: list[VarBind] = []
        for name, _ in var_binds:
            found = view.next(tuple(name))
            if found is None:
                answers.append((name, rfc1905.endOfMibView))
            else:
                oid, value = found
                answers.append((rfc1902.ObjectName(oid), value))
        return answers

    def write_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        name = var_binds[0][0] if var_binds else None
        raise smi_error.NotWritableError(name=name, idx=0)


@dataclass
class SnmpHandle:
    """The running agent: the UDP port actually bound and a way to stop it."""

    port: int
    snmp_engine: SnmpEngine

    def close(self) -> None:
        """Stop answering and release the socket."""
        self.snmp_engine.close_dispatcher()


def _bind(host: str, port: int) -> socket.socket:
    """Bind the UDP socket ourselves so port 0 works and errors are plain."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SnmpStartError(
            f"cannot listen for SNMP on {host} UDP port {port}: {exc.strerror}"
        ) from exc
    sock.setblocking(False)
    return sock


async def start(engine: Engine, host: str, port: int, community: str) -> SnmpHandle:
    """Serve SNMP v1/v2c GET, GETNEXT and GETBULK for `engine`; port 0 picks a free port."""
    return await serve(LiveInstrumentation(engine), host, port, community)


async def serve(instrumentation: AbstractMibInstrumController, host: str, port: int,
                community: str) -> SnmpHandle:
    """Answer SNMP v1/v2c from `instrumentation` (the live engine or a recorded walk)."""
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    snmp_engine = SnmpEngine()
    ipv6 = sock.family == socket.AF_INET6
    transport = (GuardedUdp6() if ipv6 else GuardedUdp()).open_server_mode(sock=sock)
    domain = udp6.DOMAIN_NAME if ipv6 else udp.DOMAIN_NAME
    config.add_transport(snmp_engine, domain, transport)
    config.add_v1_system(snmp_engine, "pagetally-sim", community)
    context = SnmpContext(snmp_engine)
    context.unregister_context_name(b"")
    context.register_context_name(b"", instrumentation)
    for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder,
                      cmdrsp.BulkCommandResponder, cmdrsp.SetCommandResponder):
        responder(snmp_engine, context)
    log.info("SNMP agent on %s:%d (community %r)", host, bound_port, community)
    return SnmpHandle(bound_port, snmp_engine)

