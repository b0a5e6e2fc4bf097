"""The simulator's SNMP agent, checked from outside with net-snmp's snmpget/snmpwalk."""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.ber import encoder as ber_encoder
from pysnmp.proto import api

from simulator import snmp_agent
from simulator.client import SimClient
from simulator.config import SimConfig
from simulator.engine import Engine
from tests.helpers import SimHandle

PRT = "1.3.6.1.2.1.43"
HR_PRINTER = "1.3.6.1.2.1.25.3"
LIFE = ".1.3.6.1.2.1.43.10.2.1.4.1.1"
DEVICE_STATUS = ".1.3.6.1.2.1.25.3.2.1.5.1"
PRINTER_STATUS = ".1.3.6.1.2.1.25.3.5.1.1.1"
ERROR_STATE = ".1.3.6.1.2.1.25.3.5.1.2.1"
ALERTS = ".1.3.6.1.2.1.43.18.1.1"


def netsnmp(tool: str, sim: SimHandle, *args: str, community: str = "public"
            ) -> subprocess.CompletedProcess[str]:
    cmd = [tool, "-v2c", "-c", community, "-On", "-t", "1", "-r", "0",
           f"{sim.snmp_host}:{sim.snmp_port}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)


def values(tool: str, sim: SimHandle, *args: str) -> dict[str, str]:
    """OID -> "TYPE: value" from snmpget/snmpwalk output (-On numeric names)."""
    result = netsnmp(tool, sim, *args)
    assert result.returncode == 0, result.stderr
    out: dict[str, str] = {}
    for line in result.stdout.splitlines():
        oid, sep, value = line.partition(" = ")
        if sep and not value.startswith("No more variables left"):  # end of the agent's MIB
            out[oid] = value
    return out


def life(sim: SimHandle) -> int:
    answer = values("snmpget", sim, LIFE)[LIFE]
    assert answer.startswith("Counter32: "), answer
    return int(answer.removeprefix("Counter32: "))


def test_walks_show_printer_mib_and_host_resources(sim: SimHandle) -> None:
    prt = values("snmpwalk", sim, PRT)
    assert prt[LIFE] == "Counter32: 0"
    assert prt[".1.3.6.1.2.1.43.10.2.1.3.1.1"] == "INTEGER: 7"  # impressions
    assert prt[".1.3.6.1.2.1.43.10.2.1.5.1.1"] == "Counter32: 0"
    assert prt[".1.3.6.1.2.1.43.5.1.1.17.1"] == 'STRING: "SIM0000001"'
    assert prt[".1.3.6.1.2.1.43.16.5.1.2.1.1"] == 'STRING: "Sleep mode"'
    assert not any(oid.startswith(ALERTS + ".") for oid in prt)
    hr = values("snmpwalk", sim, HR_PRINTER)
    assert hr[".1.3.6.1.2.1.25.3.2.1.2.1"] == "OID: .1.3.6.1.2.1.25.3.1.5"  # hrDevicePrinter
    assert hr[".1.3.6.1.2.1.25.3.2.1.3.1"] == 'STRING: "PageTally Sim MFD"'
    assert hr[DEVICE_STATUS] == "INTEGER: 2"  # running
    assert hr[PRINTER_STATUS] == "INTEGER: 3"  # idle
    assert hr[ERROR_STATE] == "Hex-STRING: 00 00 "
    # GETBULK walks see exactly what GETNEXT walks see.
    assert values("snmpbulkwalk", sim, PRT) == prt
    assert values("snmpbulkwalk", sim, HR_PRINTER) == hr
    system = values("snmpget", sim, ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.3.0")
    assert system[".1.3.6.1.2.1.1.1.0"].startswith('STRING: "PageTally Sim MFD')
    assert system[".1.3.6.1.2.1.1.3.0"].startswith("Timeticks: (")


def test_life_count_rises_by_exactly_the_pages_printed(sim: SimHandle,
                                                        sim_client: SimClient) -> None:
    before = life(sim)
    job = sim_client.submit("report", "alice", 7, hold=False)
    sim_client.wait_job(job, ("completed",))
    after = life(sim)
    assert after - before == 7
    assert after == sim_client.counters()["reported_life"]
    two_sided = sim_client.submit("duplex", "bob", 3, copies=2, sides="two-sided-long-edge",
                                  hold=False)
    sim_client.wait_job(two_sided, ("completed",))
    assert life(sim) - after == 6  # impressions, not sheets


def test_unknown_oids_and_writes_are_refused(sim: SimHandle) -> None:
    answer = values("snmpget", sim, ".1.3.6.1.4.1.32473.9.9.0", ".1.3.6.1.2.1.43.10.2.1.4.1.2")
    assert answer[".1.3.6.1.4.1.32473.9.9.0"].startswith("No Such Object")
    assert answer[".1.3.6.1.2.1.43.10.2.1.4.1.2"].startswith("No Such Instance")
    refused = netsnmp("snmpset", sim, ".1.3.6.1.2.1.1.5.0", "s", "renamed")
    assert refused.returncode != 0 and "notWritable" in refused.stderr
    wrong = netsnmp("snmpget", sim, LIFE, community="private")
    assert wrong.returncode != 0 and "Timeout" in wrong.stderr


def test_alerts_appear_on_jam_and_vanish_on_clear(sim: SimHandle,
                                                  sim_client: SimClient) -> None:
    sim_client.job_faults(jam_at=2)
    sim_client.submit("jams", "carol", 5, hold=False)
    sim_client.wait_for(lambda s: s["faults"]["jammed"], what="jam")
    jammed = values("snmpwalk", sim, PRT)
    rows = {oid: v for oid, v in jammed.items() if oid.startswith(ALERTS + ".")}
    assert rows[ALERTS + ".2.1.1"] == "INTEGER: 3"  # critical
    assert rows[ALERTS + ".4.1.1"] == "INTEGER: 13"  # mediaPath
    assert rows[ALERTS + ".7.1.1"] == "INTEGER: 8"  # jam
    assert rows[ALERTS + ".8.1.1"] == 'STRING: "Paper jam in the paper path"'
    assert rows[ALERTS + ".9.1.1"].startswith("Timeticks: (")
    assert len(rows) == 8  # one row, eight columns
    assert jammed[LIFE] == "Counter32: 2"
    hr = values("snmpwalk", sim, HR_PRINTER)
    assert hr[ERROR_STATE] == "Hex-STRING: 04 00 "  # bit 5 jammed
    assert (hr[DEVICE_STATUS], hr[PRINTER_STATUS]) == ("INTEGER: 5", "INTEGER: 1")

    sim_client.device(toner_low=True)
    both = values("snmpbulkwalk", sim, ALERTS)
    assert both[ALERTS + ".7.1.2"] == "INTEGER: 1104"  # markerTonerAlmostEmpty, next index
    assert both[ALERTS + ".2.1.2"] == "INTEGER: 4"  # warning

    sim_client.clear()
    sim_client.device(toner_low=False)
    sim_client.wait_for(lambda s: s["counters"]["reported_life"] == 5, what="job finished")
    cleared = values("snmpwalk", sim, PRT)
    assert not any(oid.startswith(ALERTS + ".") for oid in cleared)
    assert values("snmpget", sim, ERROR_STATE)[ERROR_STATE] == "Hex-STRING: 00 00 "


def test_fault_modes_as_net_snmp_sees_them(sim: SimHandle, sim_client: SimClient) -> None:
    sim_client.device(snmp="unknown")
    answer = values("snmpget", sim, LIFE, PRINTER_STATUS)
    assert answer == {LIFE: "INTEGER: -2", PRINTER_STATUS: "INTEGER: 2"}
    sim_client.device(snmp="garbage")
    assert values("snmpget", sim, LIFE)[LIFE].startswith("Hex-STRING: FF 00")
    sim_client.device(snmp="timeout")
    started = time.monotonic()
    silent = netsnmp("snmpget", sim, LIFE)
    assert silent.returncode != 0 and "Timeout: No Response" in silent.stderr
    assert time.monotonic() - started >= 0.9  # it really waited: nothing came back
    sim_client.device(snmp="normal")
    assert life(sim) == 0


# ----- junk datagrams: an agent running in-process on a thread, so its logs are captured --


@dataclass
class ThreadAgent:
    port: int
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event


@pytest.fixture
def thread_agent() -> Iterator[ThreadAgent]:
    """The SNMP front-end alone on port 0, driven by its own event loop on a thread."""
    ready: queue.Queue[ThreadAgent | BaseException] = queue.Queue()

    async def serve() -> None:
        engine = Engine(SimConfig(snmp_port=0))
        try:
            handle = await snmp_agent.start(engine, "127.0.0.1", 0, "public")
        except snmp_agent.SnmpStartError as exc:
            ready.put(exc)
            return
        stop = asyncio.Event()
        ready.put(ThreadAgent(handle.port, asyncio.get_running_loop(), stop))
        await stop.wait()
        handle.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    agent = ready.get(timeout=10)
    if isinstance(agent, BaseException):
        raise agent
    yield agent
    agent.loop.call_soon_threadsafe(agent.stop.set)
    thread.join(timeout=10)
    assert not thread.is_alive()


V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def encode_get(request_id: int, oid: str = LIFE[1:]) -> bytes:
    pdu = V2C.GetRequestPDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_varbinds(pdu, [(oid, V2C.Null(""))])
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, "public")
    V2C.apiMessage.set_pdu(message, pdu)
    return ber_encoder.encode(message)


VALID_GET = encode_get(1)


def answer_to(sock: socket.socket, request_id: int) -> object:
    """Wait for the response with `request_id`, skipping answers to other datagrams."""
    while True:
        data = sock.recv(65535)
        message, _ = ber_decoder.decode(data, asn1Spec=V2C.Message())
        pdu = V2C.apiMessage.get_pdu(message)
        if int(V2C.apiPDU.get_request_id(pdu)) == request_id:
            assert int(V2C.apiPDU.get_error_status(pdu)) == 0
            return V2C.apiPDU.get_varbinds(pdu)[0][1]


def mutated(base: bytes) -> st.SearchStrategy[bytes]:
    """A valid GET with bytes overwritten and/or cut short: nearly-right BER."""
    edits = st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)), max_size=4)

    def apply(changes: list[tuple[int, int]], cut: int) -> bytes:
        data = bytearray(base)
        for at, value in changes:
            data[at] = value
        return bytes(data[:cut])

    return st.builds(apply, edits, st.integers(1, len(base)))


def test_agent_binds_port_zero_and_survives_junk(thread_agent: ThreadAgent,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    assert thread_agent.port > 0
    caplog.set_level(logging.WARNING)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5.0)
        sock.connect(("127.0.0.1", thread_agent.port))
        request_ids = itertools.count(1000)

        @settings(max_examples=300, deadline=None)
        @given(st.one_of(st.binary(max_size=200), mutated(VALID_GET)))
        def junk_then_get(datagram: bytes) -> None:
            sock.send(datagram)
            request_id = next(request_ids)
            sock.send(encode_get(request_id))
            assert int(answer_to(sock, request_id)) == 0  # prtMarkerLifeCount still answers

        junk_then_get()
    assert [r.getMessage() for r in caplog.records] == []
