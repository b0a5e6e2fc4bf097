"""What the simulated MFD shows over SNMP: an ordered OID → value view built from the engine.

Kept apart from the pysnmp wiring so the values (RFC 3805 Printer-MIB, RFC 2790 Host
Resources) can be read and reasoned about without the protocol machinery.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from pyasn1.type.base import Asn1Item
from pysnmp.proto import rfc1902, rfc1905

from simulator.engine import Engine
from simulator.model import COUNTER32

OID = tuple[int, ...]

SYS = (1, 3, 6, 1, 2, 1, 1)
HR_DEVICE_ENTRY = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1)
HR_PRINTER_ENTRY = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1)
HR_DEVICE_PRINTER = (1, 3, 6, 1, 2, 1, 25, 3, 1, 5)
PRT = (1, 3, 6, 1, 2, 1, 43)
PRT_GENERAL_ENTRY = (*PRT, 5, 1, 1)
PRT_MARKER_ENTRY = (*PRT, 10, 2, 1)
PRT_CONSOLE_ENTRY = (*PRT, 16, 5, 1)
PRT_ALERT_ENTRY = (*PRT, 18, 1, 1)
# RFC 5612 reserves enterprise 32473 for documentation: the simulator is no real product.
SIM_OBJECT_ID = (1, 3, 6, 1, 4, 1, 32473, 1, 1)

HR_DEVICE_PROCESSOR = (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)
# KONICA MINOLTA's split counters (as on a bizhub C250i walk): .{1 black, 2 colour}.{1 copy,
# 2 print}, the same OIDs as drivers/snmp/profiles/konica-minolta.toml reads.
KM_COUNTERS = (1, 3, 6, 1, 4, 1, 18334, 1, 1, 1, 5, 7, 2, 2, 1, 5)
KM_SPLIT = {"copy_mono": (1, 1), "print_mono": (1, 2), "copy_color": (2, 1),
            "print_color": (2, 2)}

# hrPrinterDetectedErrorState bit numbers (RFC 3805); bit 0 is the MSB of the first octet.
ERROR_BITS = {"jammed": 5, "paper_out": 1, "toner_low": 2, "offline": 6}

IMPRESSIONS = 7  # PrtMarkerCounterUnitTC
ELECTROPHOTOGRAPHIC_LED = 3  # PrtMarkerMarkTechTC
GARBAGE = b"\xff\x00#?garbage\x80"


@dataclass(frozen=True)
class AlertKind:
    """One kind of prtAlertTable row: PrtAlert*TC values from RFC 3805."""

    severity: int  # critical 3, warning 4
    training: int  # untrained 3
    group: int  # input 8, markerSupplies 11, mediaPath 13, generalPrinter 5
    code: int  # jam 8, inputMediaSupplyEmpty 808, subunitOffline 22, markerTonerAlmostEmpty 1104
    description: str


ALERT_KINDS = {
    "jammed": AlertKind(3, 3, 13, 8, "Paper jam in the paper path"),
    "paper_out": AlertKind(3, 3, 8, 808, "Tray 1 is empty"),
    "offline": AlertKind(3, 3, 5, 22, "Printer is offline"),
    "toner_low": AlertKind(4, 3, 11, 1104, "Toner is low"),
}


@dataclass
class AlertBook:
    """Active alerts with stable row indices: a row keeps its index until its fault clears."""

    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # fault -> (index, ticks)
    next_index: int = 1

    def update(self, active: list[str], ticks: int) -> list[tuple[int, str, int]]:
        for fault in list(self.rows):
            if fault not in active:
                del self.rows[fault]
        for fault in active:
            if fault not in self.rows:
                self.rows[fault] = (self.next_index, ticks)
                self.next_index += 1
        return sorted((index, fault, at) for fault, (index, at) in self.rows.items())


@dataclass
class MibView:
    """A sorted snapshot of the served OIDs; `objects` lets a GET tell object from instance."""

    names: list[OID] = field(default_factory=list)
    values: dict[OID, Asn1Item] = field(default_factory=dict)
    objects: set[OID] = field(default_factory=set)

    def add(self, obj: OID, index: OID, value: Asn1Item) -> None:
        self.objects.add(obj)
        self.values[obj + index] = value

    def seal(self) -> MibView:
        self.names = sorted(self.values)
        return self

    def get(self, oid: OID) -> Asn1Item:
        if oid in self.values:
            return self.values[oid]
        if any(oid[: len(obj)] == obj for obj in self.objects):
            return rfc1905.noSuchInstance
        return rfc1905.noSuchObject

    def next(self, oid: OID) -> tuple[OID, Asn1Item] | None:
        at = bisect.bisect_right(self.names, oid)
        if at == len(self.names):
            return None
        name = self.names[at]
        return name, self.values[name]


def active_faults(engine: Engine) -> list[str]:
    return [name for name in ALERT_KINDS if getattr(engine.faults, name)]


def error_state(faults: list[str]) -> bytes:
    """hrPrinterDetectedErrorState: two octets, as most printers send it."""
    mask = 0
    for fault in faults:
        mask |= 0x8000 >> ERROR_BITS[fault]
    return mask.to_bytes(2, "big")


def device_status(faults: list[str]) -> int:
    """hrDeviceStatus: running 2, warning 3, down 5."""
    if any(f in faults for f in ("jammed", "paper_out", "offline")):
        return 5
    return 3 if faults else 2


def printer_status(engine: Engine, faults: list[str]) -> int:
    """hrPrinterStatus: other 1 (stopped by a fault), idle 3, printing 4, warmup 5."""
    if device_status(faults) == 5:
        return 1
    if engine.current is not None:
        return 4 if engine.warm else 5
    return 3


def _marker_counts(engine: Engine, life: Asn1Item, power_on: Asn1Item
                   ) -> list[tuple[Asn1Item, Asn1Item]]:
    """(prtMarkerLifeCount, prtMarkerPowerOnCount) per marker. With two markers, marker 2
    counts colour impressions and marker 1 the rest; counter faults (saves, wrap, reset)
    act on marker 1, and the two sum to the one-marker count."""
    if engine.quirks.markers == 1 or not isinstance(life, rfc1902.Counter32):
        return [(life, power_on)] * engine.quirks.markers
    color = engine.counters.true_color
    return [(rfc1902.Counter32((int(life) - color) % COUNTER32),
             rfc1902.Counter32(max(int(power_on) - color, 0))),
            (rfc1902.Counter32(color % COUNTER32), rfc1902.Counter32(color % COUNTER32))]


def gen_err_oids(engine: Engine) -> frozenset[OID]:
    """The OIDs a GET fails on with genErr under quirk snmp_gen_err."""
    device = engine.quirks.device_index
    where = {"serial": (*PRT_GENERAL_ENTRY, 17, device),
             "console": (*PRT_CONSOLE_ENTRY, 2, device, 1),
             "counter_unit": (*PRT_MARKER_ENTRY, 3, device, 1)}
    return frozenset(where[name] for name in engine.quirks.snmp_gen_err)


def build_view(engine: Engine, alerts: AlertBook, mode: str) -> MibView:
    """Every served value as the device would answer right now, in `mode`."""
    ticks = int(engine.uptime_s * 100)
    faults = active_faults(engine)
    name = engine.config.name
    view = MibView()
    scalar = rfc1902.OctetString
    view.add((*SYS, 1), (0,), scalar(f"{name} (PageTally simulator)"))
    view.add((*SYS, 2), (0,), rfc1902.ObjectIdentifier(SIM_OBJECT_ID))
    view.add((*SYS, 3), (0,), rfc1902.TimeTicks(ticks))
    view.add((*SYS, 5), (0,), scalar("pagetally-sim"))

    if mode == "unknown":
        dev_status, prt_status = 1, 2
        life: Asn1Item = rfc1902.Integer32(-2)
        power_on: Asn1Item = rfc1902.Integer32(-2)
    else:
        dev_status, prt_status = device_status(faults), printer_status(engine, faults)
        if mode == "garbage":
            life, power_on = scalar(GARBAGE), scalar(GARBAGE)
        else:
            life = rfc1902.Counter32(engine.counters.reported_life)
            power_on = rfc1902.Counter32(engine.counters.power_on % 2**32)

    quirks = engine.quirks
    device = quirks.device_index
    dev = (device,)
    if device != 1:  # a processor listed before the printer, as on most MFDs
        view.add((*HR_DEVICE_ENTRY, 1), (1,), rfc1902.Integer32(1))
        view.add((*HR_DEVICE_ENTRY, 2), (1,), rfc1902.ObjectIdentifier(HR_DEVICE_PROCESSOR))
        view.add((*HR_DEVICE_ENTRY, 3), (1,), scalar("Controller CPU"))
        view.add((*HR_DEVICE_ENTRY, 5), (1,), rfc1902.Integer32(2))
    view.add((*HR_DEVICE_ENTRY, 1), dev, rfc1902.Integer32(device))
    view.add((*HR_DEVICE_ENTRY, 2), dev, rfc1902.ObjectIdentifier(HR_DEVICE_PRINTER))
    view.add((*HR_DEVICE_ENTRY, 3), dev, scalar(name))
    view.add((*HR_DEVICE_ENTRY, 4), dev, rfc1902.ObjectIdentifier((0, 0)))
    view.add((*HR_DEVICE_ENTRY, 5), dev, rfc1902.Integer32(dev_status))
    view.add((*HR_DEVICE_ENTRY, 6), dev, rfc1902.Counter32(0))
    view.add((*HR_PRINTER_ENTRY, 1), dev, rfc1902.Integer32(prt_status))
    view.add((*HR_PRINTER_ENTRY, 2), dev, scalar(error_state(faults)))

    view.add((*PRT_GENERAL_ENTRY, 16), dev, scalar(name))
    view.add((*PRT_GENERAL_ENTRY, 17), dev, scalar(engine.config.serial_number))

    for index, (life_n, power_n) in enumerate(_marker_counts(engine, life, power_on), 1):
        marker = (device, index)
        view.add((*PRT_MARKER_ENTRY, 2), marker, rfc1902.Integer32(ELECTROPHOTOGRAPHIC_LED))
        if quirks.counter_unit:
            view.add((*PRT_MARKER_ENTRY, 3), marker, rfc1902.Integer32(IMPRESSIONS))
        view.add((*PRT_MARKER_ENTRY, 4), marker, life_n)
        view.add((*PRT_MARKER_ENTRY, 5), marker, power_n)

    view.add((*PRT_CONSOLE_ENTRY, 2), (device, 1), scalar(engine.console_text))
    if quirks.vendor_counters:
        for key, cell in KM_SPLIT.items():
            view.add(KM_COUNTERS, cell, rfc1902.Integer32(engine.counters.split[key]))

    for column in range(2, 10):
        view.objects.add((*PRT_ALERT_ENTRY, column))
    for index, fault, at in alerts.update(faults, ticks):
        kind = ALERT_KINDS[fault]
        row = (device, index)
        view.add((*PRT_ALERT_ENTRY, 2), row, rfc1902.Integer32(kind.severity))
        view.add((*PRT_ALERT_ENTRY, 3), row, rfc1902.Integer32(kind.training))
        view.add((*PRT_ALERT_ENTRY, 4), row, rfc1902.Integer32(kind.group))
        view.add((*PRT_ALERT_ENTRY, 5), row, rfc1902.Integer32(1))
        view.add((*PRT_ALERT_ENTRY, 6), row, rfc1902.Integer32(-2))
        view.add((*PRT_ALERT_ENTRY, 7), row, rfc1902.Integer32(kind.code))
        view.add((*PRT_ALERT_ENTRY, 8), row, scalar(kind.description))
        view.add((*PRT_ALERT_ENTRY, 9), row, rfc1902.TimeTicks(at))
    return view.seal()
