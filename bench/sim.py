"""Benchmark the simulator's protocol front-ends against references measured in the same run.

(a) IPP Get-Job-Attributes latency (the request the agent polls while a job prints) on the
    simulator and on CUPS's `ippeveprinter`, each asked about a completed one-page job over
    one keep-alive HTTP connection, interleaved request by request so machine noise hits
    both alike. The client is a tiny hand-built encoder, identical for both peers, so only
    the servers differ.
(b) SNMP GET latency of `prtMarkerLifeCount.1.1` on the simulator's agent, through pysnmp
    (what the agent uses) and net-snmp's `snmpget` (a process per request, as a sanity check).

Prints a table, then one JSON line with the figures last.
Run: .venv/bin/python -m bench.sim [--n 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pypdf import PdfWriter

from tests.helpers import SimHandle, start_sim
from tests.ippeveprinter import IppEvePrinter, start_ippeveprinter

PRINT_JOB, GET_JOB_ATTRIBUTES = 0x0002, 0x0009
TAG_OPERATION, TAG_END = 0x01, 0x03
TAG_INTEGER, TAG_ENUM, TAG_NAME, TAG_KEYWORD = 0x21, 0x23, 0x42, 0x44
TAG_URI, TAG_CHARSET, TAG_LANGUAGE, TAG_MIME = 0x45, 0x47, 0x48, 0x49
JOB_COMPLETED = 9
PRT_MARKER_LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"
POLLED = ("job-state", "job-state-reasons", "job-impressions-completed")


class BenchError(RuntimeError):
    """A peer answered something other than success; the benchmark would be meaningless."""


# ----- a minimal IPP wire client ---------------------------------------------------


def _attr(tag: int, name: str, *values: bytes) -> bytes:
    out = bytearray()
    for i, value in enumerate(values):
        key = name.encode() if i == 0 else b""
        out += struct.pack(">BH", tag, len(key)) + key + struct.pack(">H", len(value)) + value
    return bytes(out)


def ipp_request(operation: int, request_id: int, printer_uri: str, *attrs: bytes,
                data: bytes = b"") -> bytes:
    head = struct.pack(">BBHI", 2, 0, operation, request_id) + bytes([TAG_OPERATION])
    head += _attr(TAG_CHARSET, "attributes-charset", b"utf-8")
    head += _attr(TAG_LANGUAGE, "attributes-natural-language", b"en")
    head += _attr(TAG_URI, "printer-uri", printer_uri.encode())
    head += _attr(TAG_NAME, "requesting-user-name", b"bench")
    return head + b"".join(attrs) + bytes([TAG_END]) + data


def ipp_response(body: bytes) -> tuple[int, dict[str, int]]:
    """Status code and the integer/enum attributes of a response (enough to follow a job)."""
    if len(body) < 9:
        raise BenchError(f"IPP response of {len(body)} bytes is too short")
    status = struct.unpack(">H", body[2:4])[0]
    ints: dict[str, int] = {}
    pos, name = 8, ""
    while pos < len(body):
        tag = body[pos]
        pos += 1
        if tag == TAG_END:
            break
        if tag < 0x10:
            continue
        (name_len,) = struct.unpack(">H", body[pos:pos + 2])
        name = body[pos + 2:pos + 2 + name_len].decode() or name
        pos += 2 + name_len
        (value_len,) = struct.unpack(">H", body[pos:pos + 2])
        value = body[pos + 2:pos + 2 + value_len]
        pos += 2 + value_len
        if tag in (TAG_INTEGER, TAG_ENUM) and value_len == 4 and name not in ints:
            ints[name] = struct.unpack(">i", value)[0]
    return status, ints


@dataclass
class IppPeer:
    """One printer over one keep-alive connection."""

    label: str
    uri: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.uri)
        self.path = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                               timeout=10)
        self.request_id = 0
        self.job_id = 0

    def call(self, operation: int, *attrs: bytes, data: bytes = b"") -> dict[str, int]:
        self.request_id += 1
        body = ipp_request(operation, self.request_id, self.uri, *attrs, data=data)
        self.conn.request("POST", self.path, body, {"Content-Type": "application/ipp"})
        response = self.conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise BenchError(f"{self.label}: HTTP {response.status} {response.reason}")
        status, ints = ipp_response(payload)
        if status >= 0x0100:
            raise BenchError(f"{self.label}: IPP status 0x{status:04x} for op 0x{operation:04x}")
        return ints

    def print_one_page(self, pdf: bytes) -> None:
        ints = self.call(PRINT_JOB, _attr(TAG_NAME, "job-name", b"bench"),
                         _attr(TAG_MIME, "document-format", b"application/pdf"), data=pdf)
        self.job_id = ints["job-id"]

    def get_job(self) -> dict[str, int]:
        return self.call(GET_JOB_ATTRIBUTES, _attr(TAG_INTEGER, "job-id",
                                                   struct.pack(">i", self.job_id)),
                         _attr(TAG_KEYWORD, "requested-attributes",
                               *(a.encode() for a in POLLED)))

    def wait_completed(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.get_job().get("job-state") != JOB_COMPLETED:
            if time.monotonic() > deadline:
                raise BenchError(f"{self.label}: job {self.job_id} did not complete")
            time.sleep(0.05)

    def close(self) -> None:
        self.conn.close()


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def bench_ipp(peers: list[IppPeer], n: int) -> dict[str, list[float]]:
    pdf = one_page_pdf()
    for peer in peers:
        peer.print_one_page(pdf)
        peer.wait_completed()
        for _ in range(20):  # warm up connection, caches and the interpreter
            peer.get_job()
    samples: dict[str, list[float]] = {p.label: [] for p in peers}
    for _ in range(n):
        for peer in peers:
            samples[peer.label].append(timed_ms(peer.get_job))
    return samples


# ----- SNMP ------------------------------------------------------------------------


async def _pysnmp_samples(host: str, port: int, n: int) -> list[float]:
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    engine = SnmpEngine()
    target = await UdpTransportTarget.create((host, port), timeout=2, retries=0)
    community = CommunityData("public", mpModel=1)
    samples: list[float] = []
    for i in range(n + 20):
        start = time.perf_counter()
        error, status, _, binds = await get_cmd(
            engine, community, target, ContextData(),
            ObjectType(ObjectIdentity(PRT_MARKER_LIFE_COUNT)))
        elapsed = (time.perf_counter() - start) * 1000.0
        if error or status or not binds:
            raise BenchError(f"SNMP GET on the simulator failed: {error or status.prettyPrint()}")
        if i >= 20:
            samples.append(elapsed)
    engine.close_dispatcher()
    return samples


def _snmpget_samples(host: str, port: int, n: int) -> list[float]:
    args = ["snmpget", "-v2c", "-c", "public", "-t", "2", "-r", "0", "-Oqv",
            f"{host}:{port}", PRT_MARKER_LIFE_COUNT]
    samples: list[float] = []
    for _ in range(n):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
        samples.append((time.perf_counter() - start) * 1000.0)
        if done.returncode != 0 or not done.stdout.strip().isdigit():
            raise BenchError(f"snmpget failed: {done.stderr.strip() or done.stdout.strip()}")
    return samples


# ----- report ----------------------------------------------------------------------


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": round(pct(samples, 50), 3), "p95": round(pct(samples, 95), 3),
            "n": len(samples)}


def run(n: int) -> dict[str, object]:
    sim: SimHandle = start_sim()
    eve: IppEvePrinter = start_ippeveprinter()
    peers = [IppPeer("sim", sim.ipp), IppPeer("ippeveprinter", eve.uri)]
    try:
        ipp = {label: summary(s) for label, s in bench_ipp(peers, n).items()}
        snmp = {
            "pysnmp": summary(asyncio.run(_pysnmp_samples(sim.snmp_host, sim.snmp_port, n))),
            "snmpget": summary(_snmpget_samples(sim.snmp_host, sim.snmp_port,
                                                max(10, n // 5))),
        }
    finally:
        for peer in peers:
            peer.close()
        sim.child.stop()
        eve.stop()
    return {
        "bench": "sim",
        "ipp_get_job_attributes_ms": ipp,
        "ipp_ratio_sim_over_ippeveprinter": {
            q: round(ipp["sim"][q] / ipp["ippeveprinter"][q], 3) for q in ("p50", "p95")},
        "snmp_get_ms": snmp,
    }


def print_table(result: dict[str, object]) -> None:
    ipp = result["ipp_get_job_attributes_ms"]
    snmp = result["snmp_get_ms"]
    assert isinstance(ipp, dict) and isinstance(snmp, dict)
    print(f"{'measure':44} {'n':>6} {'p50 ms':>9} {'p95 ms':>9}")
    rows = [(f"IPP Get-Job-Attributes, {k}", v) for k, v in ipp.items()]
    rows += [(f"SNMP GET prtMarkerLifeCount, {k}", v) for k, v in snmp.items()]
    for label, s in rows:
        print(f"{label:44} {s['n']:>6} {s['p50']:>9.3f} {s['p95']:>9.3f}")
    ratio = result["ipp_ratio_sim_over_ippeveprinter"]
    assert isinstance(ratio, dict)
    print(f"IPP ratio sim / ippeveprinter: p50 {ratio['p50']:.2f}x, p95 {ratio['p95']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sim", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="requests per measure (default 1000)")
    args = parser.parse_args(argv)
    if args.n < 10:
        parser.error("--n must be at least 10")
    try:
        result = run(args.n)
    except BenchError as exc:
        print(f"bench.sim: {exc}", file=sys.stderr)
        return 1
    print_table(result)
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
