"""SnmpReader against the simulator in every SNMP fault mode, wrap and save-every-N."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from drivers.snmp import Alert, SnmpReader, load_profile
from drivers.snmp.message import Message, Pdu, PduType, VarBind
from drivers.snmp.values import (
    Counter32,
    EndOfMibView,
    Integer,
    NoSuchInstance,
    OctetString,
    Undecodable,
    Value,
)
from simulator.client import SimClient
from tests.helpers import SimHandle, free_port

TIMEOUT = 0.3


@pytest.fixture
async def reader(sim: SimHandle) -> AsyncIterator[SnmpReader]:
    r = SnmpReader(sim.snmp_host, sim.snmp_port, profile=load_profile("pagetally-sim"),
                   timeout=TIMEOUT)
    yield r
    r.close()


def print_pages(sim_client: SimClient, pages: int) -> None:
    job = sim_client.submit("doc", "alice", pages, hold=False)
    sim_client.wait_job(job, ("completed",))


async def test_normal_read(sim: SimHandle, sim_client: SimClient, reader: SnmpReader) -> None:
    snap = await reader.read()
    assert snap.reachable and snap.problem is None
    assert (snap.life_count, snap.power_on_count, snap.counter_unit) == (0, 0, "impressions")
    assert (snap.device_status, snap.printer_status) == ("running", "idle")
    assert snap.idle
    assert (snap.errors, snap.alerts) == (frozenset(), ())
    assert (snap.serial, snap.console) == ("SIM0000001", "Sleep mode")
    assert snap.uptime_ticks is not None and snap.uptime_ticks >= 0
    print_pages(sim_client, 5)
    assert await reader.life_count() == 5 == sim_client.counters()["reported_life"]
    later = await reader.read()
    assert (later.life_count, later.power_on_count, later.console) == (5, 5, "Ready")
    assert later.read_at > snap.read_at
    assert later.uptime_ticks is not None and later.uptime_ticks >= snap.uptime_ticks


async def test_printing_is_not_idle(sim: SimHandle, sim_client: SimClient,
                                    reader: SnmpReader) -> None:
    job = sim_client.submit("long", "bob", 400, hold=False)
    sim_client.wait_for(lambda s: s["printer"]["current_job"] == job, what="printing")
    snap = await reader.read()
    assert (snap.printer_status, snap.idle, snap.console) == ("printing", False, "Printing")
    sim_client.cancel_at_device(job)
    sim_client.wait_job(job, ("canceled",))
    assert sim_client.job(job)["state_reasons"] == ["job-canceled-at-device"]
    settled = await reader.read()
    assert settled.idle
    assert settled.life_count == sim_client.job(job)["printed"]


async def test_jam_shows_alert_errors_and_clears(sim: SimHandle, sim_client: SimClient,
                                                 reader: SnmpReader) -> None:
    sim_client.job_faults(jam_at=3)
    sim_client.device(toner_low=True)
    sim_client.submit("jams", "carol", 6, hold=False)
    sim_client.wait_for(lambda s: s["faults"]["jammed"], what="jam")
    snap = await reader.read()
    assert snap.reachable and snap.problem is None
    assert snap.errors == {"jammed", "lowToner"}
    assert (snap.device_status, snap.printer_status, snap.idle) == ("down", "other", False)
    assert snap.alerts == (
        Alert("warning", "markerSupplies", "markerTonerAlmostEmpty", "Toner is low"),
        Alert("critical", "mediaPath", "jam", "Paper jam in the paper path"),
    )
    assert snap.life_count == 3
    sim_client.clear()
    sim_client.device(toner_low=False)
    sim_client.wait_for(lambda s: s["counters"]["reported_life"] == 6, what="job finished")
    cleared = await reader.read()
    assert (cleared.errors, cleared.alerts, cleared.life_count) == (frozenset(), (), 6)


async def test_alert_walk_over_several_bulk_requests(sim: SimHandle, sim_client: SimClient,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "tiny-bulk.toml"
    path.write_text('extends = "pagetally-sim"\nbulk_rows = 1\n', encoding="utf-8")
    reader = SnmpReader(sim.snmp_host, sim.snmp_port, profile=load_profile(str(path)),
                        timeout=TIMEOUT)
    try:
        sim_client.device(toner_low=True)
        sim_client.job_faults(paper_out_at=1)
        sim_client.submit("tray", "dan", 3, hold=False)
        sim_client.wait_for(lambda s: s["faults"]["paper_out"], what="paper out")
        snap = await reader.read()
    finally:
        reader.close()
    assert snap.problem is None
    assert snap.alerts == (
        Alert("warning", "markerSupplies", "markerTonerAlmostEmpty", "Toner is low"),
        Alert("critical", "input", "inputMediaSupplyEmpty", "Tray 1 is empty"),
    )
    assert snap.errors == {"noPaper", "lowToner"}


async def test_timeout_is_an_explicit_unknown(sim: SimHandle, sim_client: SimClient,
                                              reader: SnmpReader) -> None:
    sim_client.device(snmp="timeout")
    started = time.monotonic()
    snap = await reader.read()
    elapsed = time.monotonic() - started
    assert not snap.reachable and snap.life_count is None and not snap.idle
    assert snap.problem == f"no answer from 127.0.0.1:{sim.snmp_port} within {TIMEOUT:g} s"
    assert elapsed >= TIMEOUT  # it waited for the answer; how much longer a loaded machine
    # takes to wake it is not ours to assert (TIMEOUT + 1 s failed a CI run at load 12)
    assert await reader.life_count() is None
    assert reader.last_problem == snap.problem
    sim_client.device(snmp="normal")
    assert (await reader.read()).reachable


async def test_offline_printer_stops_answering(sim: SimHandle, sim_client: SimClient,
                                               reader: SnmpReader) -> None:
    sim_client.device(offline=True)
    assert not (await reader.read()).reachable
    sim_client.device(offline=False)
    assert (await reader.read()).idle


async def test_unknown_counter_minus_two(sim: SimHandle, sim_client: SimClient,
                                         reader: SnmpReader) -> None:
    sim_client.device(snmp="unknown")
    snap = await reader.read()
    assert snap.reachable and snap.life_count is None and snap.power_on_count is None
    assert (snap.printer_status, snap.device_status, snap.idle) == ("unknown", "unknown", False)
    assert snap.problem == "printer reports its page counter as unknown (-2)"
    assert await reader.life_count() is None
    assert reader.last_problem == snap.problem


async def test_garbage_counter(sim: SimHandle, sim_client: SimClient,
                               reader: SnmpReader) -> None:
    sim_client.device(snmp="garbage")
    snap = await reader.read()
    assert snap.reachable and snap.life_count is None and snap.idle
    assert snap.problem == "printer answered its page counter with text instead of a number"
    assert await reader.life_count() is None


async def test_asleep_printer_with_sleepy_snmp(sim: SimHandle, sim_client: SimClient,
                                               reader: SnmpReader) -> None:
    sim_client.device(asleep_snmp="timeout")
    assert sim_client.state()["printer"]["asleep"]  # the simulator boots asleep
    assert not (await reader.read()).reachable
    sim_client.wake()
    awake = await reader.read()
    assert awake.reachable and awake.life_count == 0
    assert sim_client.sleep()
    assert await reader.life_count() is None
    assert reader.last_problem is not None and reader.last_problem.startswith("no answer")


async def test_counter_wrap(sim: SimHandle, sim_client: SimClient, reader: SnmpReader) -> None:
    sim_client.wrap_counter(pages_before_wrap=2)
    before = await reader.life_count()
    assert before == 2**32 - 2
    print_pages(sim_client, 5)
    after = await reader.life_count()
    assert after == 3
    assert (after - before) % 2**reader.profile.counter_bits == 5


async def test_counter_saved_every_ten_pages(sim: SimHandle, sim_client: SimClient,
                                             tmp_path: Path) -> None:
    path = tmp_path / "sim-saves-10.toml"
    path.write_text('extends = "pagetally-sim"\nsaves_every = 10\n', encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.saves_every == 10
    sim_client.device(counter_save_every=profile.saves_every)
    reader = SnmpReader(sim.snmp_host, sim.snmp_port, profile=profile, timeout=TIMEOUT)
    try:
        print_pages(sim_client, 7)
        assert await reader.life_count() == 0  # seven pages printed, none saved yet
        print_pages(sim_client, 3)
        assert await reader.life_count() == 10
        print_pages(sim_client, 12)
        snap = await reader.read()
        assert snap.life_count == 20 and sim_client.counters()["true_total"] == 22
    finally:
        reader.close()


async def test_nobody_listening() -> None:
    port = free_port(socket.SOCK_DGRAM)
    reader = SnmpReader("127.0.0.1", port, timeout=TIMEOUT, retries=1)
    try:
        snap = await reader.read()
        assert not snap.reachable
        assert snap.problem == f"no answer from 127.0.0.1:{port} within {TIMEOUT:g} s (2 tries)"
    finally:
        reader.close()


class JunkPrinter(asyncio.DatagramProtocol):
    """A UDP peer on loopback that answers every request with the same bytes."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(self.reply, addr)


@pytest.mark.parametrize("reply", [
    b"garbage\n",  # pyasn1 raised TypeError inside pysnmp on this one
    b"\x30\x03\x02\x01\x01",  # a BER SEQUENCE that is not an SNMP message
    b"\x30\x82\xff\xff\x02",  # a length far past the end
    bytes(range(256)) * 4,
    b"\xff\x00#?garbage\x80",
])
async def test_printer_answering_junk(reply: bytes, caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: JunkPrinter(reply),
                                                       local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    reader = SnmpReader("127.0.0.1", port, timeout=TIMEOUT)
    caplog.set_level(logging.WARNING)
    try:
        snap = await reader.read()
        count = await reader.life_count()
    finally:
        reader.close()
        transport.close()
    assert not snap.reachable and count is None
    assert snap.problem == f"printer at 127.0.0.1:{port} sent data that is not a valid SNMP answer"
    assert reader.last_problem == snap.problem
    assert [r.getMessage() for r in caplog.records] == []


class TablePrinter(asyncio.DatagramProtocol):
    """A UDP peer answering GETs from a table of values (raw where a test needs bytes a
    correct encoder would never write) and every walk with endOfMibView."""

    def __init__(self, table: dict[tuple[int, ...], Value]) -> None:
        self.table = table
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = Message.from_bytes(data)
        walking = request.pdu.type is not PduType.GET
        binds = tuple(VarBind(vb.oid, EndOfMibView() if walking
                              else self.table.get(vb.oid, NoSuchInstance()))
                      for vb in request.pdu.var_binds)
        answer = Pdu(PduType.RESPONSE, request.pdu.request_id, var_binds=binds)
        assert self.transport is not None
        self.transport.sendto(Message(request.version, request.community, answer).to_bytes(),
                              addr)


async def test_a_badly_encoded_counter_costs_only_itself() -> None:
    """A Counter32 sent as a negative number (a firmware that forgets the leading zero):
    pysnmp dropped the whole answer; now the page counter alone is unknown, with why."""
    life = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1)
    negative = Undecodable(0x41, b"\xff\xff\xff\xfe",
                           "a Counter32 encoded as a negative number (-2)")
    table: dict[tuple[int, ...], Value] = {
        life: negative,
        (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5, 1): Integer(2),
        (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1): Integer(3),
        (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2, 1): OctetString(b"\x00\x00"),
        (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 5, 1, 1): Counter32(40),
    }
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: TablePrinter(table),
                                                       local_addr=("127.0.0.1", 0))
    reader = SnmpReader("127.0.0.1", transport.get_extra_info("sockname")[1], timeout=TIMEOUT)
    try:
        snap = await reader.read()
    finally:
        reader.close()
        transport.close()
    why = ("printer answered its page counter with a value that cannot be decoded "
           "(a Counter32 encoded as a negative number (-2)) instead of a number")
    assert snap.reachable and snap.life_count is None
    assert (snap.unknowns["life_count"], snap.problem) == (why, why)
    assert (snap.device_status, snap.printer_status, snap.errors) == ("running", "idle",
                                                                      frozenset())
    assert snap.power_on_count == 40
