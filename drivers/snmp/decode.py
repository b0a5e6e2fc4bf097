"""Decoders for Printer-MIB (RFC 3805) and Host Resources (RFC 2790) values.

Printers answer with wrong types, -2 "unknown", junk bytes or nothing. Each decoder turns a
raw value into a plain value or None plus the reason in plain words; none of them raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drivers.snmp.values import EXCEPTIONS, NoSuchInstance, Number, OctetString, Value

OID = tuple[int, ...]

# hrPrinterDetectedErrorState bits: 0-7 from RFC 2790, 8-14 added by RFC 3805; bit 0 = MSB.
ERROR_STATE_BITS = (
    "lowPaper", "noPaper", "lowToner", "noToner", "doorOpen", "jammed", "offline",
    "serviceRequested", "inputTrayMissing", "outputTrayMissing", "markerSupplyMissing",
    "outputNearFull", "outputFull", "inputTrayEmpty", "overduePreventMaint",
)

DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
COUNTER_UNITS = {
    3: "tenThousandthsOfInches", 4: "micrometers", 5: "characters", 6: "lines",
    7: "impressions", 8: "sheets", 9: "dotRow", 11: "hours", 16: "feet", 17: "meters",
}
ALERT_SEVERITY = {1: "other", 3: "critical", 4: "warning", 5: "warningBinaryChangeEvent"}
ALERT_GROUP = {
    1: "other", 2: "unknown", 3: "hostResourcesMIBStorageTable",
    4: "hostResourcesMIBDeviceTable", 5: "generalPrinter", 6: "cover", 7: "localization",
    8: "input", 9: "output", 10: "marker", 11: "markerSupplies", 12: "markerColorant",
    13: "mediaPath", 14: "channel", 15: "interpreter", 16: "consoleDisplayBuffer",
    17: "consoleLights", 18: "alert", 30: "finDevice", 31: "finSupply",
    32: "finSupplyMediaInput", 33: "finAttribute",
}
_SUBUNIT_CODES = (
    "subunitMissing", "subunitLifeAlmostOver", "subunitLifeOver", "subunitAlmostEmpty",
    "subunitEmpty", "subunitAlmostFull", "subunitFull", "subunitNearLimit", "subunitAtLimit",
    "subunitOpened", "subunitClosed", "subunitTurnedOn", "subunitTurnedOff",
    "subunitOffline", "subunitPowerSaver", "subunitWarmingUp", "subunitAdded",
    "subunitRemoved", "subunitResourceAdded", "subunitResourceRemoved",
    "subunitRecoverableFailure", "subunitUnrecoverableFailure",
    "subunitRecoverableStorageError", "subunitUnrecoverableStorageError",
    "subunitMotorFailure", "subunitMemoryExhausted", "subunitUnderTemperature",
    "subunitOverTemperature", "subunitTimingFailure", "subunitThermistorFailure",
)
_INPUT_CODES = (
    "inputMediaTrayMissing", "inputMediaSizeChange", "inputMediaWeightChange",
    "inputMediaTypeChange", "inputMediaColorChange", "inputMediaFormPartsChange",
    "inputMediaSupplyLow", "inputMediaSupplyEmpty", "inputMediaChangeRequest",
    "inputManualInputRequest", "inputTrayPositionFailure", "inputTrayElevationFailure",
    "inputCannotFeedSizeSelected",
)
_SUPPLY_CODES = (
    "markerTonerEmpty", "markerInkEmpty", "markerPrintRibbonEmpty", "markerTonerAlmostEmpty",
    "markerInkAlmostEmpty", "markerPrintRibbonAlmostEmpty",
    "markerWasteTonerReceptacleAlmostFull", "markerWasteInkReceptacleAlmostFull",
    "markerWasteTonerReceptacleFull", "markerWasteInkReceptacleFull",
    "markerOpcLifeAlmostOver", "markerOpcLifeOver", "markerDeveloperAlmostEmpty",
    "markerDeveloperEmpty", "markerTonerCartridgeMissing",
)
# PrtAlertCodeTC (RFC 3805): the codes a print-release terminal may show or act on.
ALERT_CODE: dict[int, str] = {
    1: "other", 2: "unknown", 3: "coverOpen", 4: "coverClosed", 5: "interlockOpen",
    6: "interlockClosed", 7: "configurationChange", 8: "jam",
    **{9 + i: name for i, name in enumerate(_SUBUNIT_CODES)},
    501: "doorOpen", 502: "doorClosed", 503: "powerUp", 504: "powerDown",
    505: "printerNMSReset", 506: "printerManualReset", 507: "printerReadyToPrint",
    **{801 + i: name for i, name in enumerate(_INPUT_CODES)},
    901: "outputMediaTrayMissing", 902: "outputMediaTrayAlmostFull",
    903: "outputMediaTrayFull", 904: "outputMailboxSelectFailure",
    1001: "markerFuserUnderTemperature", 1002: "markerFuserOverTemperature",
    1003: "markerFuserTimingFailure", 1004: "markerFuserThermistorFailure",
    1005: "markerAdjustingPrintQuality",
    **{1101 + i: name for i, name in enumerate(_SUPPLY_CODES)},
    1301: "mediaPathMediaTrayMissing", 1302: "mediaPathMediaTrayAlmostFull",
    1303: "mediaPathMediaTrayFull", 1304: "mediaPathCannotDuplexMediaSelected",
    1801: "alertRemovalOfBinaryChangeEntry",
}

# prtAlertEntry columns
ALERT_SEVERITY_COL, ALERT_GROUP_COL, ALERT_CODE_COL, ALERT_DESCRIPTION_COL = 2, 4, 7, 8


@dataclass(frozen=True)
class Alert:
    """One prtAlertTable row, decoded to names."""

    severity: str
    group: str
    code: str
    description: str


MISSING: Value = NoSuchInstance()
"""Stands for a value the printer's answer did not carry."""


def is_missing(value: object) -> bool:
    """noSuchObject / noSuchInstance / endOfMibView: the printer has no such value."""
    return isinstance(value, EXCEPTIONS)


def kind(value: object) -> str:
    """The type of a value in plain words, for problem messages."""
    if isinstance(value, Value):
        return value.describe()
    return type(value).__name__


def decode_error_state(raw: bytes) -> frozenset[str]:
    """hrPrinterDetectedErrorState: set bit names; bit 0 is the MSB of the first octet.

    Any length is accepted (printers send 1, 2 or more octets); unknown bits are ignored.
    """
    names = set()
    for bit, name in enumerate(ERROR_STATE_BITS):
        octet = bit // 8
        if octet < len(raw) and raw[octet] & (0x80 >> (bit % 8)):
            names.add(name)
    return frozenset(names)


def decode_counter(value: Value, what: str, bits: int) -> tuple[int | None, str | None]:
    """A page counter: (count, None), or (None, why it cannot be trusted)."""
    if isinstance(value, Number):
        number = value.value
        if number == -2:
            return None, f"printer reports {what} as unknown (-2)"
        if number < 0:
            return None, f"printer reports {what} as {number}, which is not a page count"
        if number >= 2**bits:
            return None, f"printer reports {what} as {number}, larger than a {bits}-bit counter"
        return number, None
    if is_missing(value):
        return None, f"printer does not have {what}"
    return None, f"printer answered {what} with {kind(value)} instead of a number"


def decode_enum(value: Value, names: Mapping[int, str], what: str
                ) -> tuple[str | None, str | None]:
    """An enumerated INTEGER to its name, or (None, why)."""
    if isinstance(value, Number):
        name = names.get(value.value)
        if name is None:
            return None, f"printer reports {what} as {value.value}, which is not a known value"
        return name, None
    if is_missing(value):
        return None, f"printer does not have {what}"
    return None, f"printer answered {what} with {kind(value)} instead of a number"


def decode_text(value: Value | None) -> str | None:
    """A DisplayString-like value as text; undecodable bytes are replaced, not fatal."""
    if not isinstance(value, OctetString):
        return None
    return value.value.decode("utf-8", errors="replace").replace("\x00", "").strip()


def decode_bytes(value: Value | None) -> bytes | None:
    return value.value if isinstance(value, OctetString) else None


def _name(value: Value | None, names: Mapping[int, str]) -> str:
    if isinstance(value, Number):
        return names.get(value.value, f"code {value.value}")
    return "unknown"


def decode_alerts(rows: Iterable[tuple[OID, Value]], entry: OID) -> tuple[Alert, ...]:
    """prtAlertTable var-binds (under prtAlertEntry) to alerts, in row order.

    Rows are keyed by the index after the column number; missing or mistyped cells
    become "unknown" instead of dropping the row.
    """
    cells: dict[OID, dict[int, Value]] = {}
    for oid, value in rows:
        if oid[: len(entry)] != entry or len(oid) <= len(entry) + 1:
            continue
        column, index = oid[len(entry)], oid[len(entry) + 1:]
        cells.setdefault(index, {})[column] = value
    alerts = []
    for index in sorted(cells):
        row = cells[index]
        alerts.append(Alert(
            severity=_name(row.get(ALERT_SEVERITY_COL), ALERT_SEVERITY),
            group=_name(row.get(ALERT_GROUP_COL), ALERT_GROUP),
            code=_name(row.get(ALERT_CODE_COL), ALERT_CODE),
            description=decode_text(row.get(ALERT_DESCRIPTION_COL)) or "",
        ))
    return tuple(alerts)
