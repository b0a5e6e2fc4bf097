"""Where a printer keeps its values: its hrDeviceIndex and its markers, found by walking.

Printers number their devices as they like (a printer behind a scanner and a fax card is
not always device 1) and some have two markers. The OIDs the reader asks for are the
standard columns at the indexes found here; a profile OID outside those columns (a vendor
counter) is used as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.snmp.values import ObjectIdentifier, Value

OID = tuple[int, ...]

HR_DEVICE_ENTRY: OID = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1)
HR_DEVICE_TYPE_COL = 2
HR_DEVICE_PRINTER: OID = (1, 3, 6, 1, 2, 1, 25, 3, 1, 5)
PRT_MARKER_ENTRY: OID = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1)
PRT_MARKER_LIFE_COL = 4

# Standard columns and how each is indexed: by (device, marker), by device, or console.
COLUMNS: dict[str, tuple[OID, str]] = {
    "life_count_oid": ((*PRT_MARKER_ENTRY, 4), "marker"),
    "power_on_oid": ((*PRT_MARKER_ENTRY, 5), "marker"),
    "counter_unit_oid": ((*PRT_MARKER_ENTRY, 3), "marker"),
    "device_status_oid": ((*HR_DEVICE_ENTRY, 5), "device"),
    "printer_status_oid": ((1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1), "device"),
    "error_state_oid": ((1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2), "device"),
    "serial_oid": ((1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17), "device"),
    "console_oid": ((1, 3, 6, 1, 2, 1, 43, 16, 5, 1, 2), "console"),
}


@dataclass(frozen=True)
class Layout:
    """The printer's hrDeviceIndex and its markers as (device, marker) indexes."""

    device: int
    markers: tuple[tuple[int, int], ...]
    note: str | None = None
    """Why a default was assumed, in plain words; None when the walk found both."""

    def oid(self, field: str, configured: OID, marker: tuple[int, int] | None = None) -> OID:
        """The profile's OID for `field` at this layout's indexes; a configured OID that is
        not in the standard column (a vendor's) is used as written."""
        if field not in COLUMNS:
            return configured
        column, kind = COLUMNS[field]
        if configured[:len(column)] != column:
            return configured
        if kind == "marker":
            return (*column, *(marker or self.markers[0]))
        if kind == "console":
            return (*column, self.device, 1)
        return (*column, self.device)


def find_layout(device_types: Iterable[tuple[OID, Value]],
                life_counts: Iterable[tuple[OID, Value]], default: Layout) -> Layout:
    """The layout from walks of hrDeviceType and prtMarkerLifeCount; `default` (the
    profile's indexes) for what the walks do not show."""
    type_col = (*HR_DEVICE_ENTRY, HR_DEVICE_TYPE_COL)
    printers = sorted(oid[len(type_col)] for oid, value in device_types
                      if len(oid) == len(type_col) + 1 and oid[:len(type_col)] == type_col
                      and value == ObjectIdentifier(HR_DEVICE_PRINTER))
    life_col = (*PRT_MARKER_ENTRY, PRT_MARKER_LIFE_COL)
    markers = sorted((oid[-2], oid[-1]) for oid, _ in life_counts
                     if len(oid) == len(life_col) + 2 and oid[:len(life_col)] == life_col)
    notes = []
    if printers:
        device = printers[0]
    elif markers:
        device = markers[0][0]
        notes.append(f"printer lists no hrDevicePrinter; device {device} of its markers used")
    else:
        device = default.device
        notes.append(f"printer lists no hrDevicePrinter; device {device} assumed")
    own = tuple(m for m in markers if m[0] == device)
    if not own:
        own = ((device, default.markers[0][1]),)
        notes.append(f"printer lists no prtMarkerLifeCount for device {device}; "
                     f"marker {own[0][1]} assumed")
    return Layout(device, own, "; ".join(notes) or None)
