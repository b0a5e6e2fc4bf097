"""The SNMP driver on walks recorded from real printers, served over real UDP.

Each .snmprec walk is answered by a pysnmp command responder (simulator.snmp_walk) and read
with SnmpReader, as the agent reads a printer. The expected values were read by hand from
the walk files; net-snmp's snmpget checks the served walk independently.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from drivers.snmp import SnmpReader, load_profile
from drivers.snmp.reader import MarkerCount, PrinterSnapshot
from simulator.snmp_agent import SnmpHandle, serve
from simulator.snmp_walk import WalkInstrumentation, load_walk
from tests.realprinters.conftest import RECORDINGS

WALKS = RECORDINGS / "snmp"
SERIAL = (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1)


@dataclass
class Expected:
    life: int | None
    unit: str | None
    status: str | None
    errors: frozenset[str] | None
    device: str | None
    profile: str = "generic"
    vendor: dict[str, int] = field(default_factory=dict)
    serial: str | None = None


EXPECTED = {
    "brother_hl5370dw": Expected(7792, "impressions", None, frozenset(), "running"),
    "canonprinter_tm": Expected(21588, "sheets", None, frozenset(), "running"),
    # No Printer-MIB marker table at all; error state sent as an empty string (no bits).
    "epson": Expected(None, None, None, frozenset(), "warning", serial="X3B8022793"),
    "konica_c250i": Expected(33810, None, None, frozenset({"serviceRequested"}), "warning",
                             "konica-minolta", {"copy_mono": 3672, "print_mono": 22876,
                                                "copy_color": 544, "print_color": 6711},
                             serial="AA2M021115700"),
    "ricoh_mpc3002": Expected(271871, "sheets", None, frozenset(), "warning",
                              serial="W492KB03439"),
    "samsungprinter_m4080fx": Expected(22934, "impressions", None, frozenset({"lowPaper"}),
                                       "warning"),
    # Supplies only: no counter, no status, no error state.
    "xerox": Expected(None, None, None, None, None),
    "zebra": Expected(None, None, "idle", frozenset(), "running"),
}


async def _serve(path: Path, gen_err: frozenset[tuple[int, ...]] = frozenset()
                 ) -> SnmpHandle:
    return await serve(WalkInstrumentation(load_walk(path), gen_err), "127.0.0.1", 0,
                       "public")


async def _read(path: Path, profile: str = "generic",
                gen_err: frozenset[tuple[int, ...]] = frozenset()) -> PrinterSnapshot:
    handle = await _serve(path, gen_err)
    reader = SnmpReader("127.0.0.1", handle.port, profile=load_profile(profile), timeout=2.0)
    try:
        return await reader.read()
    finally:
        reader.close()
        handle.close()


def test_every_walk_has_expectations() -> None:
    assert sorted(p.stem for p in WALKS.glob("*.snmprec")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_walk_reads_as_recorded(name: str) -> None:
    want = EXPECTED[name]
    snap = await _read(WALKS / f"{name}.snmprec", want.profile)
    assert snap.reachable
    assert (snap.life_count, snap.counter_unit, snap.printer_status, snap.errors,
            snap.device_status) == (want.life, want.unit, want.status, want.errors,
                                    want.device)
    assert dict(snap.vendor_counters) == want.vendor
    assert snap.serial == want.serial
    if want.life is None:
        assert "life_count" in snap.unknowns
    if want.unit is None:
        assert "prtMarkerCounterUnit" in snap.unknowns["counter_unit"]
        assert snap.counter_unit_assumed == "impressions"
    if want.status is None:  # hrPrinterStatus is missing from all but the Zebra
        assert snap.unknowns["printer_status"] == "printer does not have its printer status"
    if want.errors is None:
        assert "hrPrinterDetectedErrorState" in snap.unknowns["errors"]


async def test_samsung_printer_found_among_eleven_devices() -> None:
    """The Samsung lists 11 hrDevice rows and no hrDeviceType: its marker says device 1."""
    snap = await _read(WALKS / "samsungprinter_m4080fx.snmprec")
    assert snap.device_index == 1
    assert snap.markers == (MarkerCount(1, 1, 22934, "impressions"),)


async def test_gen_err_on_an_optional_oid_keeps_the_counter() -> None:
    """Before the fix one genErr (here on the serial number) lost the whole snapshot."""
    snap = await _read(WALKS / "konica_c250i.snmprec", "konica-minolta",
                       gen_err=frozenset({SERIAL}))
    assert snap.reachable and snap.life_count == 33810 and snap.device_status == "warning"
    assert snap.vendor_counters["print_mono"] == 22876
    assert snap.serial is None and "genErr" in snap.unknowns["serial"]


async def test_gen_err_on_the_counter_names_it() -> None:
    life = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1)
    snap = await _read(WALKS / "ricoh_mpc3002.snmprec", gen_err=frozenset({life}))
    assert snap.reachable and snap.life_count is None and snap.device_status == "warning"
    assert "genErr" in snap.unknowns["life_count"] and snap.problem is not None
    assert "page counter" in snap.problem


@pytest.fixture
async def konica() -> AsyncIterator[SnmpHandle]:
    handle = await _serve(WALKS / "konica_c250i.snmprec")
    yield handle
    handle.close()


async def test_net_snmp_reads_the_served_walk_as_we_do(konica: SnmpHandle) -> None:
    proc = await asyncio.create_subprocess_exec(
        "snmpget", "-v2c", "-c", "public", "-On", "-Oq", f"127.0.0.1:{konica.port}",
        "1.3.6.1.2.1.43.10.2.1.4.1.1", "1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.2",
        "1.3.6.1.2.1.25.3.5.1.2.1", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    lines = out.decode().splitlines()
    assert lines[0] == ".1.3.6.1.2.1.43.10.2.1.4.1.1 33810"
    assert lines[1] == ".1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.2 6711"
    assert lines[2].replace('"', "").strip().endswith("01 00")
