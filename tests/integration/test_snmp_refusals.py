"""A printer that refuses one OID is asked for it once, then again only now and then.

Counted on the wire: a relay on loopback passes every datagram between the reader and the
simulator's SNMP agent (snmp-generr profile: genErr for the serial number) and keeps each
request it forwarded, so the tests see what the printer was asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import pytest

from drivers.snmp import PrinterSnapshot, SnmpReader, load_profile
from drivers.snmp.message import Message, Pdu, PduType
from simulator.client import SimClient
from tests.helpers import SimHandle

SERIAL = (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1)  # prtGeneralSerialNumber, device 1
RECHECK_S = 60.0


class CountingRelay(asyncio.DatagramProtocol):
    """Forwards one manager's datagrams to `target` and the answers back, keeping each
    request it forwarded."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.requests: list[Pdu] = []
        self.manager: tuple[str, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        if addr == self.target:
            if self.manager is not None:
                self.transport.sendto(data, self.manager)
            return
        self.manager = addr
        self.requests.append(Message.from_bytes(data).pdu)
        self.transport.sendto(data, self.target)

    def gets(self) -> list[Pdu]:
        """The GET requests forwarded so far (walks are GETBULK)."""
        return [pdu for pdu in self.requests if pdu.type is PduType.GET]


@dataclass
class Clock:
    """The reader's monotonic clock, moved by the test."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Wire:
    reader: SnmpReader
    relay: CountingRelay
    clock: Clock

    async def read(self) -> tuple[PrinterSnapshot, list[Pdu]]:
        """One reading and the GETs the printer received for it."""
        before = len(self.relay.gets())
        snap = await self.reader.read()
        return snap, self.relay.gets()[before:]


@pytest.fixture
async def wire(sim: SimHandle) -> AsyncIterator[Wire]:
    loop = asyncio.get_running_loop()
    relay = CountingRelay((sim.snmp_host, sim.snmp_port))
    transport, _ = await loop.create_datagram_endpoint(lambda: relay,
                                                       local_addr=("127.0.0.1", 0))
    clock = Clock()
    reader = SnmpReader("127.0.0.1", transport.get_extra_info("sockname")[1],
                        profile=load_profile("pagetally-sim"), timeout=1.0,
                        recheck_s=RECHECK_S, clock=clock)
    yield Wire(reader, relay, clock)
    reader.close()
    transport.close()


def asks_serial(pdu: Pdu) -> bool:
    return any(vb.oid == SERIAL for vb in pdu.var_binds)


def refused(snap: PrinterSnapshot) -> str:
    """The serial number's unknown reason, checking the rest of the reading is whole."""
    assert snap.reachable and snap.serial is None
    assert (snap.life_count, snap.printer_status, snap.errors) == (0, "idle", frozenset())
    assert snap.console is not None and snap.uptime_ticks is not None
    return snap.unknowns["serial"]


async def test_a_refused_oid_is_asked_once_then_only_at_the_recheck(
        sim_client: SimClient, wire: Wire) -> None:
    sim_client.profiles("snmp-generr")
    first, gets = await wire.read()
    why = refused(first)
    assert why == (f"its serial number: printer refused it (printer at {wire.reader.address} "
                   "refused the request: genErr at 1.3.6.1.2.1.43.5.1.1.17.1)")
    assert len(gets) > 3  # the required GET, the refused one, and its halves
    assert [len(pdu.var_binds) for pdu in gets if asks_serial(pdu)][-1] == 1  # alone
    for _ in range(4):  # later readings: the required GET and the optional one, no serial
        snap, gets = await wire.read()
        assert refused(snap) == why  # the same explicit unknown, with the same reason
        assert len(gets) == 2 and not any(map(asks_serial, gets))
    wire.clock.now += RECHECK_S - 1
    snap, gets = await wire.read()
    assert len(gets) == 2 and refused(snap) == why
    wire.clock.now += 1  # the recheck: the serial number alone, beside the optional GET
    snap, gets = await wire.read()
    assert refused(snap) == why
    assert len(gets) == 3 and [len(pdu.var_binds) for pdu in gets if asks_serial(pdu)] == [1]
    snap, gets = await wire.read()
    assert len(gets) == 2 and not any(map(asks_serial, gets))


async def test_a_printer_that_answers_again_is_read_again(sim_client: SimClient,
                                                          wire: Wire) -> None:
    sim_client.profiles("snmp-generr")
    why = refused((await wire.read())[0])
    sim_client.profiles()  # the printer now answers for its serial number
    snap, gets = await wire.read()
    assert refused(snap) == why and not any(map(asks_serial, gets))  # not asked yet
    wire.clock.now += RECHECK_S
    snap, gets = await wire.read()
    assert snap.serial == "SIM0000001" and "serial" not in snap.unknowns
    assert snap.problem is None
    snap, gets = await wire.read()  # back in the optional GET, every reading
    assert snap.serial == "SIM0000001" and len(gets) == 2
    assert [len(pdu.var_binds) for pdu in gets if asks_serial(pdu)] == [5]


async def test_a_restart_asks_again_at_once(sim_client: SimClient, wire: Wire) -> None:
    sim_client.profiles("snmp-generr")
    deadline = time.monotonic() + 10
    while (snap := (await wire.read())[0]).uptime_ticks is None or snap.uptime_ticks < 100:
        assert time.monotonic() < deadline, "the simulator's sysUpTime did not reach 1 s"
        await asyncio.sleep(0.05)
    why = refused(snap)
    sim_client.profiles()
    sim_client.power_cycle()  # a firmware update restarts the printer: sysUpTime goes back
    snap, gets = await wire.read()
    assert snap.uptime_ticks is not None and snap.uptime_ticks < 100
    assert refused(snap) == why and not any(map(asks_serial, gets))
    snap, gets = await wire.read()  # no time has passed on the reader's clock
    assert snap.serial == "SIM0000001" and "serial" not in snap.unknowns
    assert any(map(asks_serial, gets))


async def test_a_restart_walks_the_device_again(sim_client: SimClient, wire: Wire) -> None:
    """New firmware may number the printer's device anew: after sysUpTime goes back the
    reader walks again and reads the counter where it now is."""
    deadline = time.monotonic() + 10
    while (snap := (await wire.read())[0]).uptime_ticks is None or snap.uptime_ticks < 100:
        assert time.monotonic() < deadline, "the simulator's sysUpTime did not reach 1 s"
        await asyncio.sleep(0.05)
    assert (snap.device_index, snap.life_count) == (1, 0)
    sim_client.profiles("hrdevice-2")  # the printer is hrDevice 2 from now on
    sim_client.power_cycle()
    walks = len(wire.relay.requests) - len(wire.relay.gets())
    snap, _ = await wire.read()  # sees the restart; still reads device 1, which is gone
    assert snap.device_index == 1 and snap.life_count is None
    assert len(wire.relay.requests) - len(wire.relay.gets()) == walks + 1  # alerts only
    sim_client.wait_job(sim_client.submit("doc", "alice", 3, hold=False), ("completed",))
    snap, _ = await wire.read()
    assert (snap.device_index, snap.life_count, snap.printer_status) == (2, 3, "idle")
    assert "life_count" not in snap.unknowns
