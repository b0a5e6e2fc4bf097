"""Our SNMP client against outside implementations, over real UDP.

- Requests: net-snmp's snmpget/snmpgetnext/snmpbulkget send to a socket here; our codec
  must decode each and, given the same request-id, encode exactly the same bytes.
- Answers: the simulator's pysnmp agent serves every SNMP value type and a real printer's
  walk; what our client reads must equal what net-snmp's snmpget/snmpwalk print.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from pyasn1.type.base import Asn1Item
from pysnmp.proto import rfc1902

from drivers.snmp.message import (
    Message,
    PduType,
    Version,
    get_bulk_request,
    get_next_request,
    get_request,
)
from drivers.snmp.transport import SnmpClient
from drivers.snmp.values import (
    Counter32,
    Counter64,
    EndOfMibView,
    Gauge32,
    Integer,
    IpAddress,
    NoSuchInstance,
    NoSuchObject,
    Null,
    ObjectIdentifier,
    OctetString,
    Opaque,
    TimeTicks,
    Value,
)
from simulator.snmp_agent import SnmpHandle, serve
from simulator.snmp_walk import WalkInstrumentation, load_walk
from tests.realprinters.conftest import RECORDINGS

OID = tuple[int, ...]
BASE = (1, 3, 6, 1, 4, 1, 99999)
# Every SNMP value type, as pysnmp (an implementation that is not ours) encodes them.
TYPED: dict[OID, Asn1Item] = {
    (*BASE, 1, 0): rfc1902.Integer32(-5),
    (*BASE, 2, 0): rfc1902.OctetString(b""),
    (*BASE, 3, 0): rfc1902.OctetString(b"Ready \x00\xff" + bytes(range(30))),
    (*BASE, 4, 0): rfc1902.ObjectName((1, 3, 6, 1, 4, 1, 2**32 - 1, 0)),
    (*BASE, 5, 0): rfc1902.IpAddress("10.0.0.1"),
    (*BASE, 6, 0): rfc1902.Counter32(2**32 - 1),
    (*BASE, 7, 0): rfc1902.Gauge32(7),
    (*BASE, 8, 0): rfc1902.TimeTicks(123456),
    (*BASE, 9, 0): rfc1902.Counter64(2**64 - 1),
    (*BASE, 10, 0): rfc1902.Opaque(b"\x01\x02\xff"),
    (*BASE, 11, 0): rfc1902.Integer32(-(2**31)),
    (*BASE, 12, 0): rfc1902.Counter32(0),
}
NETSNMP_OPTS = ("-On", "-Ox", "-Oe", "-OU", "-t", "2", "-r", "0")
_TYPES: dict[str, type[Integer | Counter32 | Gauge32 | Counter64]] = {
    "INTEGER": Integer, "Counter32": Counter32, "Gauge32": Gauge32, "Counter64": Counter64}
_EXCEPTIONS = {
    "No Such Instance currently exists at this OID": NoSuchInstance(),
    "No Such Object available on this agent at this OID": NoSuchObject(),
    "No more variables left in this MIB View (It is past the end of the MIB tree)":
        EndOfMibView(),
}


def _netsnmp_value(text: str) -> Value:
    """One value as net-snmp prints it with -Ox -Oe, as our type."""
    if text in _EXCEPTIONS:
        return _EXCEPTIONS[text]
    if text == '""':
        return OctetString(b"")
    if text == "NULL":
        return Null()
    kind, _, rest = text.partition(": ")
    if kind in _TYPES:
        return _TYPES[kind](int(rest))
    if kind in ("Hex-STRING", "OPAQUE"):
        raw = bytes.fromhex(rest)
        return OctetString(raw) if kind == "Hex-STRING" else Opaque(raw)
    if kind == "OID":
        return ObjectIdentifier(tuple(int(x) for x in rest.strip(".").split(".")))
    if kind == "IpAddress":
        return IpAddress(socket.inet_aton(rest))
    if kind == "Timeticks":
        return TimeTicks(int(rest.split(")")[0].strip("(")))
    raise AssertionError(f"net-snmp printed a value this test cannot read: {text!r}")


async def netsnmp(tool: str, port: int, *args: str, version: str = "2c"
                  ) -> list[tuple[OID, Value]]:
    """(OID, value) in the order net-snmp printed them (values may span lines)."""
    proc = await asyncio.create_subprocess_exec(
        tool, f"-v{version}", "-c", "public", *NETSNMP_OPTS, f"127.0.0.1:{port}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    entries: list[list[str]] = []
    for line in out.decode().splitlines():
        name, sep, text = line.partition(" = ")
        if line.startswith(".") and sep:
            entries.append([name, text])
        elif entries:  # a long hex string goes on over several lines
            entries[-1][1] += " " + line
    return [(tuple(int(x) for x in name.strip(".").split(".")), _netsnmp_value(text.strip()))
            for name, text in entries]


@pytest.fixture
async def typed_agent() -> AsyncIterator[SnmpHandle]:
    handle = await serve(WalkInstrumentation(TYPED), "127.0.0.1", 0, "public")
    yield handle
    handle.close()


async def _first_datagram(*cmd: str) -> bytes:
    """The first datagram a net-snmp tool sends to a socket that never answers."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bytes] = loop.create_future()

    class Catch(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if not got.done():
                got.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Catch, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    tool, version, *args = cmd
    proc = await asyncio.create_subprocess_exec(
        tool, version, "-c", "public", "-t", "5", "-r", "0", f"127.0.0.1:{port}", *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        return await asyncio.wait_for(got, 10)
    finally:
        proc.kill()
        await proc.wait()
        transport.close()


OIDS_TO_SEND = [
    (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1),
    (1, 3, 6, 1, 4, 1, 18334, 1, 1, 1, 5, 7, 2, 2, 1, 5, 2, 2),
    (1, 3, 6, 1, 4, 1, 2**32 - 1, 128, 16383, 16384, 2**21, 0),
    (2, 999, 1),
    (0, 0),
]


@pytest.mark.parametrize("tool", ["snmpget", "snmpgetnext", "snmpbulkget", "snmpget-v1"])
async def test_our_requests_are_net_snmps_bytes(tool: str) -> None:
    dotted = [".".join(map(str, oid)) for oid in OIDS_TO_SEND]
    if tool == "snmpbulkget":
        raw = await _first_datagram(tool, "-v2c", "-Cn1", "-Cr7", *dotted)
    elif tool == "snmpget-v1":
        raw = await _first_datagram("snmpget", "-v1", *dotted)
    else:
        raw = await _first_datagram(tool, "-v2c", *dotted)
    message = Message.from_bytes(raw)
    assert [vb.oid for vb in message.pdu.var_binds] == OIDS_TO_SEND
    assert all(vb.value == Null() for vb in message.pdu.var_binds)
    request_id = message.pdu.request_id
    if tool == "snmpbulkget":
        ours = get_bulk_request(request_id, OIDS_TO_SEND, non_repeaters=1, max_repetitions=7)
    elif tool == "snmpgetnext":
        ours = get_next_request(request_id, OIDS_TO_SEND)
    else:
        ours = get_request(request_id, OIDS_TO_SEND)
    version = Version.V1 if tool == "snmpget-v1" else Version.V2C
    assert message.version is version
    assert Message(version, b"public", ours).to_bytes() == raw


async def test_every_value_type_reads_as_net_snmp_prints_it(typed_agent: SnmpHandle) -> None:
    asked = [*sorted(TYPED), (*BASE, 1), (1, 3, 6, 1, 2, 1, 1, 1, 0)]
    dotted = [".".join(map(str, oid)) for oid in asked]
    theirs = await netsnmp("snmpget", typed_agent.port, *dotted)
    client = SnmpClient("127.0.0.1", typed_agent.port, timeout=2.0)
    try:
        answer = await client.request(get_request(0, asked))
        v1 = SnmpClient("127.0.0.1", typed_agent.port, timeout=2.0, version=Version.V1)
        try:
            v1_answer = await v1.request(get_request(0, [(*BASE, 6, 0)]))
        finally:
            v1.close()
    finally:
        client.close()
    ours = [(vb.oid, vb.value) for vb in answer.var_binds]
    assert (answer.type, answer.error_status) == (PduType.RESPONSE, 0)
    assert ours == theirs
    assert ours[-2:] == [((*BASE, 1), NoSuchInstance()),
                         ((1, 3, 6, 1, 2, 1, 1, 1, 0), NoSuchInstance())]
    assert [(vb.oid, vb.value) for vb in v1_answer.var_binds] == [
        ((*BASE, 6, 0), Counter32(2**32 - 1))]
    assert await netsnmp("snmpget", typed_agent.port, ".1.3.6.1.4.1.99999.6.0",
                         version="1") == [((*BASE, 6, 0), Counter32(2**32 - 1))]


async def _walk(client: SnmpClient, root: OID, bulk: int = 0) -> list[tuple[OID, Value]]:
    """Our walk of everything under `root`, with GETNEXT (bulk=0) or GETBULK."""
    found: list[tuple[OID, Value]] = []
    at = root
    while True:
        pdu = (get_bulk_request(0, [at], max_repetitions=bulk) if bulk
               else get_next_request(0, [at]))
        answer = await client.request(pdu)
        assert answer.error_status == 0
        for vb in answer.var_binds:
            if vb.oid[:len(root)] != root or isinstance(vb.value, EndOfMibView):
                return found
            assert vb.oid > at
            found.append((vb.oid, vb.value))
            at = vb.oid


@pytest.mark.parametrize("walk", ["konica_c250i", "ricoh_mpc3002", "typed"])
@pytest.mark.parametrize("bulk", [0, 25])
async def test_walks_equal_snmpwalk(walk: str, bulk: int) -> None:
    """Whole walks of real printers' recordings (and every type), GETNEXT and GETBULK."""
    path = RECORDINGS / "snmp" / f"{walk}.snmprec"
    if walk != "typed" and not path.is_file():
        pytest.skip(f"the real-printer recording {path} is absent")
    values = TYPED if walk == "typed" else load_walk(path)
    handle = await serve(WalkInstrumentation(values), "127.0.0.1", 0, "public")
    client = SnmpClient("127.0.0.1", handle.port, timeout=2.0)
    try:
        ours = await _walk(client, (1, 3), bulk)
        tool = "snmpbulkwalk" if bulk else "snmpwalk"
        extra = (f"-Cr{bulk}",) if bulk else ()
        theirs = await netsnmp(tool, handle.port, *extra, ".1.3")
    finally:
        client.close()
        handle.close()
    # net-snmp prints the end of the MIB too (snmpbulkwalk once per repetition): not a value.
    assert ours == [(oid, value) for oid, value in theirs if value != EndOfMibView()]
    assert len(ours) == len(values)

