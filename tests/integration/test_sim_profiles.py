"""The simulator's quirk profiles, checked from outside: net-snmp's snmpget/snmpwalk, CUPS's
ipptool, raw IPP bytes and the /sim/ control API, each against a real `pagetally sim`."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import datetime

import pytest

from drivers.ipp import build as b
from drivers.ipp.codec import IppGroup, IppMessage, decode, encode
from drivers.ipp.tags import GroupTag, Operation
from simulator.client import SimClient, SimControlError
from simulator.profiles import PROFILES, ProfileError, combine
from tests.cups import ipptool
from tests.helpers import BIN, SimHandle, start_sim
from tests.integration.test_sim_snmp import netsnmp, values

HR_DEVICE_TYPE = ".1.3.6.1.2.1.25.3.2.1.2"
MARKERS = ".1.3.6.1.2.1.43.10.2.1"
KM = ".1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5"
PRINTER = "1.3.6.1.2.1.25.3.1.5"
PROCESSOR = "1.3.6.1.2.1.25.3.1.3"


@pytest.fixture
def quirky() -> Iterator[SimHandle]:
    """A simulator imitating the SNMP profiles together (they do not overlap)."""
    handle = start_sim("--profile", "hrdevice-2,two-markers,vendor-split,snmp-generr")
    yield handle
    handle.child.stop()


def test_index_lists_every_profile_and_control_selects_them(sim: SimHandle,
                                                           sim_client: SimClient) -> None:
    index = sim_client.index()
    assert {p["name"] for p in index["profiles"]} == set(PROFILES)
    assert all(p["description"] and p["seen_in"] for p in index["profiles"])
    assert index["active_profiles"] == []
    answer = sim_client.profiles("uptime-only", "vendor-split")
    assert answer == {"ok": True, "profiles": ["uptime-only", "vendor-split"],
                      "agent_snmp_profile": "konica-minolta"}
    assert sim_client.state()["profiles"] == ["uptime-only", "vendor-split"]
    assert sim_client.profiles()["profiles"] == []


def test_control_refuses_unknown_and_contradicting_profiles(sim_client: SimClient) -> None:
    sim_client.profiles("no-job-counts")
    with pytest.raises(SimControlError, match="no quirk profile named 'nope'; available: "):
        sim_client.profiles("nope")
    with pytest.raises(SimControlError, match="invalid request"):
        sim_client._call("POST", "/sim/profiles", {"profiles": 3})
    assert sim_client.state()["profiles"] == ["no-job-counts"]  # a refusal changes nothing


def test_profiles_that_contradict_are_named() -> None:
    with pytest.raises(ProfileError, match="'uptime-only' and 'no-job-times' disagree about "
                                           "job_times"):
        combine(["uptime-only", "no-job-times"])
    assert combine("no-counter-unit, vendor-split").quirks.vendor_counters is True


def test_cli_refuses_an_unknown_profile_in_plain_words() -> None:
    done = subprocess.run([str(BIN / "pagetally"), "sim", "--profile", "uptime-only,bogus"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "no quirk profile named 'bogus'" in done.stderr


def test_printer_is_hrdevice_2_with_two_markers_as_net_snmp_walks_it(
        quirky: SimHandle) -> None:
    sim = SimClient(quirky.control)
    types = values("snmpwalk", quirky, HR_DEVICE_TYPE)
    assert types == {f"{HR_DEVICE_TYPE}.1": f"OID: .{PROCESSOR}",
                     f"{HR_DEVICE_TYPE}.2": f"OID: .{PRINTER}"}
    sim.copy(3, color=True)
    sim.copy(2)
    sim.wait_for(lambda s: s["counters"]["true_total"] == 5, what="5 pages copied")
    markers = values("snmpwalk", quirky, MARKERS)
    assert markers[f"{MARKERS}.4.2.1"] == "Counter32: 2"  # monochrome marker
    assert markers[f"{MARKERS}.4.2.2"] == "Counter32: 3"  # colour marker
    assert not any(oid.startswith(f"{MARKERS}.3.") for oid in markers)  # no counter unit
    assert not any(oid.endswith(".1.1") for oid in markers)  # nothing at device 1


def test_vendor_split_counters_follow_copies_and_prints(quirky: SimHandle) -> None:
    sim = SimClient(quirky.control)
    sim.copy(2, color=True)
    job = sim.submit("print.pdf", "alice", 4, hold=False)
    sim.wait_job(job, ("completed",))
    km = values("snmpwalk", quirky, KM)
    assert km == {f"{KM}.1.1": "INTEGER: 0", f"{KM}.1.2": "INTEGER: 4",
                  f"{KM}.2.1": "INTEGER: 2", f"{KM}.2.2": "INTEGER: 0"}
    assert sim.state()["split_counters"] == {"copy_mono": 0, "print_mono": 4,
                                             "copy_color": 2, "print_color": 0}


def test_gen_err_on_an_optional_oid_fails_the_get_that_asks_for_it(quirky: SimHandle) -> None:
    serial, life = ".1.3.6.1.2.1.43.5.1.1.17.2", f"{MARKERS}.4.2.1"
    both = netsnmp("snmpget", quirky, life, serial)
    assert both.returncode != 0 and "genError" in both.stderr
    assert "Failed object: " + serial in both.stderr
    assert values("snmpget", quirky, life) == {life: "Counter32: 0"}


def _get_jobs_attrs(sim: SimHandle) -> list[dict[str, object]]:
    return ipptool(sim.ipp, "Get-Jobs", "keyword which-jobs all",
                   "keyword requested-attributes all")


@pytest.mark.parametrize("profile", ["uptime-only", "no-job-times", "clock-1970"])
def test_job_times_as_ipptool_reads_them(profile: str) -> None:
    sim = start_sim("--profile", profile)
    try:
        client = SimClient(sim.control)
        client.wait_job(client.submit("t.pdf", "alice", 2, hold=False), ("completed",))
        held = client.submit("h.pdf", "alice", 1)
        jobs = {job["job-id"]: job for job in _get_jobs_attrs(sim)}
        [printer] = ipptool(sim.ipp, "Get-Printer-Attributes",
                            "keyword requested-attributes printer-current-time,printer-up-time")
    finally:
        sim.child.stop()
    done, waiting = jobs[1], jobs[held]
    dates = [k for k in done if k.startswith("date-time-at-")]
    up_times = {k: v for k, v in done.items() if k.startswith("time-at-")}
    if profile == "uptime-only":
        assert dates == [] and "printer-current-time" not in printer
        assert set(up_times) == {"time-at-creation", "time-at-processing", "time-at-completed"}
        assert all(isinstance(v, int) and v >= 1 for v in up_times.values())
        assert (waiting["time-at-processing"], waiting["time-at-completed"]) == (0, 0)
    elif profile == "no-job-times":
        assert dates == [] and up_times == {}
        assert "printer-current-time" in printer
    else:
        clock = printer["printer-current-time"]
        completed = done["date-time-at-completed"]
        assert isinstance(clock, datetime) and clock.year == 1970
        assert isinstance(completed, datetime) and completed.year == 1970


def test_latin1_location_is_sent_as_latin1_bytes() -> None:
    sim = start_sim("--profile", "latin1-text")
    try:
        request = IppMessage((2, 0), Operation.GET_PRINTER_ATTRIBUTES, 1, [
            IppGroup(GroupTag.OPERATION).add(
                b.charset("attributes-charset", "utf-8"),
                b.language("attributes-natural-language", "en"),
                b.uri("printer-uri", sim.ipp),
                b.keyword("requested-attributes", "printer-location", "printer-state"))])
        http = sim.ipp.replace("ipp://", "http://")
        with urllib.request.urlopen(urllib.request.Request(
                http, data=encode(request), headers={"Content-Type": "application/ipp"}),
                timeout=10) as resp:
            raw = resp.read()
    finally:
        sim.child.stop()
    assert "Salle de reprographie, 2e étage".encode("latin-1") in raw
    answer = decode(raw)
    printer = answer.groups[1]
    assert printer.value("printer-location") == "Salle de reprographie, 2e étage"
    assert [n.attribute for n in answer.notes] == ["printer-location"]
