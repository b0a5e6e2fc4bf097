"""Quirk profiles: the simulated MFD made to behave like the real printers it stands for.

Each profile reproduces one way a real printer departs from the standards' tidy path, as
seen in the recordings under ../shared/fixtures/real-printers/ or named in issue 11, so the
agent's metering is tested end to end against it rather than only its drivers against a
file. Profiles combine (`--profile uptime-only,no-job-counts`): a printer that gives only
up-time job stamps and no per-job counts is the hard case for metering.

A profile is data: the device quirks it sets (`Quirks`, read by the IPP and SNMP front
ends), the device faults it sets (`ipp_counters`), and the agent's SNMP profile that
matches it (a vendor's counters need the vendor's profile).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

JobTimes = Literal["date-and-uptime", "uptime-only", "none"]
OptionalValue = Literal["serial", "console", "counter_unit"]
AGENT_DEFAULT_PROFILE = "pagetally-sim"


@dataclass(frozen=True)
class Quirks:
    """How the device departs from RFC 8011 / RFC 3805 as most printers implement them."""

    job_times: JobTimes = "date-and-uptime"
    """date-and-uptime: date-time-at-* and time-at-*. uptime-only: only time-at-* (0 until a
    step happens) and no printer-current-time. none: no job time attributes at all."""
    clock_1970: bool = False
    """The wall clock was never set: it counts from 1970-01-01 at power-on."""
    latin1_text: bool = False
    """printer-location sent as Latin-1 bytes, not UTF-8."""
    snmp_gen_err: frozenset[OptionalValue] = frozenset()
    """Optional SNMP values answered with genErr: the whole GET that asks for one fails."""
    device_index: int = 1
    """The printer's hrDeviceIndex (Printer-MIB rows are indexed by it too)."""
    markers: int = 1
    """Markers in prtMarkerTable. With 2, marker 1 marks monochrome impressions and marker 2
    colour ones, as a device with a separate colour engine: only their sum is the total."""
    counter_unit: bool = True
    """prtMarkerCounterUnit is served (False: the object is missing)."""
    vendor_counters: bool = False
    """KONICA MINOLTA's enterprise counters, split copy/print and black/colour."""


QUIRK_FIELDS = frozenset(f.name for f in dataclasses.fields(Quirks))
DEVICE_FIELDS = frozenset({"ipp_counters"})  # DeviceFaults fields a profile may set


@dataclass(frozen=True)
class Profile:
    """A named set of quirks, what it imitates, and the agent SNMP profile it needs."""

    name: str
    description: str
    seen_in: str
    changes: Mapping[str, object] = field(default_factory=dict)
    agent_snmp_profile: str = AGENT_DEFAULT_PROFILE

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "seen_in": self.seen_in,
                "agent_snmp_profile": self.agent_snmp_profile}


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("uptime-only",
            "job times only as time-at-* (seconds of up-time, 0 until a step happens); no "
            "date-time-at-*, no printer-current-time",
            "Xerox B210 (ipp-client-kotlin recording); about half the jipp printers",
            {"job_times": "uptime-only"}),
    Profile("no-job-times",
            "no job time attributes at all, neither date-time-at-* nor time-at-*",
            "issue 11: printers that stamp no job times",
            {"job_times": "none"}),
    Profile("clock-1970",
            "the wall clock was never set: printer-current-time and date-time-at-* count "
            "from 1970-01-01 at power-on",
            "Xerox B210 time-at-* decoded as 1970 dates; SOURCE.md: some clocks never set",
            {"clock_1970": True}),
    Profile("latin1-text",
            "printer-location in Latin-1, not UTF-8",
            "issue 11: Brother and Ricoh in the field",
            {"latin1_text": True}),
    Profile("snmp-generr",
            "genErr for an optional SNMP value (prtGeneralSerialNumber): a GET asking for "
            "it fails whole",
            "issue 11: one genErr lost the whole snapshot",
            {"snmp_gen_err": frozenset({"serial"})}),
    Profile("hrdevice-2",
            "the printer is hrDevice 2 (device 1 is its processor); Printer-MIB rows are "
            "indexed by 2",
            "issue 11: only hrDevice index 1 was read",
            {"device_index": 2}),
    Profile("two-markers",
            "two markers: marker 1 counts monochrome impressions, marker 2 colour ones",
            "issue 11: only marker .1.1 was read",
            {"markers": 2}),
    Profile("no-counter-unit",
            "no prtMarkerCounterUnit",
            "KONICA MINOLTA bizhub C250i walk (konica_c250i.snmprec)",
            {"counter_unit": False}),
    Profile("vendor-split",
            "KONICA MINOLTA bizhub: no prtMarkerCounterUnit, enterprise counters split by "
            "copy/print and black/colour",
            "KONICA MINOLTA bizhub C250i walk (konica_c250i.snmprec)",
            {"counter_unit": False, "vendor_counters": True},
            agent_snmp_profile="konica-minolta"),
    Profile("no-job-counts",
            "no job-impressions-completed and no printer-impressions-completed over IPP",
            "SOURCE.md: none of the IPP recordings carries printer-impressions-completed",
            {"ipp_counters": False}),
)}


class ProfileError(ValueError):
    """Profiles that do not exist or contradict each other, in plain words."""


@dataclass(frozen=True)
class Selection:
    """Profiles combined: the quirks, device faults and agent SNMP profile they add up to."""

    names: tuple[str, ...] = ()
    quirks: Quirks = Quirks()
    device: Mapping[str, object] = field(default_factory=dict)
    agent_snmp_profile: str = AGENT_DEFAULT_PROFILE


def parse_names(text: str | Iterable[str]) -> tuple[str, ...]:
    """Profile names from "a,b" or a list; blanks dropped, order kept, each once."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def combine(names: Iterable[str]) -> Selection:
    """The profiles applied in order; two that set one thing differently are an error."""
    chosen = parse_names(names)
    set_by: dict[str, tuple[str, object]] = {}
    agent = AGENT_DEFAULT_PROFILE
    for name in chosen:
        profile = PROFILES.get(name)
        if profile is None:
            raise ProfileError(f"no quirk profile named {name!r}; available: "
                               f"{', '.join(sorted(PROFILES))}")
        for key, value in profile.changes.items():
            if key in set_by and set_by[key][1] != value:
                raise ProfileError(f"profiles {set_by[key][0]!r} and {name!r} disagree "
                                   f"about {key}")
            set_by[key] = (name, value)
        if profile.agent_snmp_profile != AGENT_DEFAULT_PROFILE:
            if agent not in (AGENT_DEFAULT_PROFILE, profile.agent_snmp_profile):
                raise ProfileError(f"profile {name!r} needs the agent's SNMP profile "
                                   f"{profile.agent_snmp_profile!r}, another needs {agent!r}")
            agent = profile.agent_snmp_profile
    values = {key: value for key, (_, value) in set_by.items()}
    quirks = Quirks(**{k: v for k, v in values.items() if k in QUIRK_FIELDS})  # type: ignore[arg-type]  # keys checked against Quirks' fields
    device = {k: v for k, v in values.items() if k in DEVICE_FIELDS}
    return Selection(chosen, quirks, device, agent)


def agent_snmp_profile(names: Iterable[str]) -> str:
    """The agent's SNMP profile for these simulator profiles (tests and bench use it)."""
    return combine(names).agent_snmp_profile
