"""Async Printer-MIB + Host Resources reader on our own SNMP v2c client (drivers.snmp.transport).

The printer's device and markers are found by walking (drivers.snmp.layout), once and again
after a restart. Then one GET carries what metering needs (the markers' life counts, status,
error state), a second GET the optional values (unit, serial, console, vendor counters), and
one GETBULK walk the alert table. A printer that refuses part of a GET (genErr, noSuchName)
is asked again in halves, so one value it cannot give never costs the others; what it
refused alone is then remembered and left out of later GETs, and asked again now and then
(drivers.snmp.refusals). Timeouts, "-2 unknown", wrong types and junk become unknown values,
each with its reason in `unknowns` and `problem`; nothing here raises for them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from drivers.snmp import decode
from drivers.snmp.ber import BerEncodeError
from drivers.snmp.decode import OID, Alert
from drivers.snmp.layout import (
    HR_DEVICE_ENTRY,
    HR_DEVICE_TYPE_COL,
    PRT_MARKER_ENTRY,
    PRT_MARKER_LIFE_COL,
    Layout,
    find_layout,
)
from drivers.snmp.message import Pdu, error_name, get_bulk_request, get_request
from drivers.snmp.profiles import Profile, load_profile
from drivers.snmp.refusals import RECHECK_S, Refusals
from drivers.snmp.transport import NoAnswer, SnmpClient, SnmpTransportError
from drivers.snmp.values import TimeTicks, Value

T = TypeVar("T")
VarBinds = list[tuple[OID, Value]]

# Values metering needs (one GET) and values it can do without (another GET).
_REQUIRED = ("device_status_oid", "printer_status_oid", "error_state_oid")
_OPTIONAL = ("uptime_oid", "power_on_oid", "counter_unit_oid", "serial_oid", "console_oid")
_ALERT_COLUMNS = (decode.ALERT_SEVERITY_COL, decode.ALERT_GROUP_COL, decode.ALERT_CODE_COL,
                  decode.ALERT_DESCRIPTION_COL)
_MAX_ALERT_CELLS = 512  # stop walking a table that never ends (broken agents loop)


@dataclass(frozen=True)
class MarkerCount:
    """One marker's lifetime count (prtMarkerLifeCount) and the unit it counts in."""

    device: int
    marker: int
    life_count: int | None
    unit: str | None


@dataclass(frozen=True)
class PrinterSnapshot:
    """What the printer said at one moment; None means unknown and `unknowns` says why.

    `life_count` is the first marker of the printer's device, as metering has always read
    it; `markers` has each. `errors` is None when the printer does not report its error
    state (never "no errors"); `counter_unit` is None when it does not say what it counts
    in, and `counter_unit_assumed` then gives the profile's assumption."""

    reachable: bool
    life_count: int | None = None
    power_on_count: int | None = None
    counter_unit: str | None = None
    device_status: str | None = None
    printer_status: str | None = None
    errors: frozenset[str] | None = None
    alerts: tuple[Alert, ...] = ()
    serial: str | None = None
    console: str | None = None
    uptime_ticks: int | None = None
    problem: str | None = None
    read_at: float = field(default_factory=time.monotonic)
    device_index: int | None = None
    markers: tuple[MarkerCount, ...] = ()
    counter_unit_assumed: str | None = None
    vendor_counters: Mapping[str, int] = field(default_factory=dict)
    unknowns: Mapping[str, str] = field(default_factory=dict)
    """Field -> why it is unknown in plain words ("not reported", "answered with text")."""

    @property
    def idle(self) -> bool:
        return self.reachable and self.printer_status == "idle"


class _Decoded:
    """The values of one read, decoded one by one; each unknown one keeps its reason."""

    def __init__(self, values: dict[OID, Value], refused: dict[OID, str], bits: int) -> None:
        self.values = values
        self.refused = refused
        self.bits = bits
        self.unknowns: dict[str, str] = {}
        self.problems: list[str] = []

    def _known(self, oid: OID, key: str, what: str, result: tuple[T, str | None],
               note: bool) -> T | None:
        value: T | None
        value, reason = result
        if oid in self.refused:
            value, reason = None, f"{what}: {self.refused[oid]}"
        if reason:
            self.unknowns.setdefault(key, reason)
            if note:
                self.problems.append(reason)
        return value

    def counter(self, oid: OID, key: str, what: str, note: bool = True) -> int | None:
        raw = self.values.get(oid, decode.MISSING)
        return self._known(oid, key, what, decode.decode_counter(raw, what, self.bits), note)

    def enum(self, oid: OID, names: Mapping[int, str], key: str, what: str,
             note: bool = True) -> str | None:
        raw = self.values.get(oid, decode.MISSING)
        return self._known(oid, key, what, decode.decode_enum(raw, names, what), note)

    def text(self, oid: OID, key: str, what: str) -> str | None:
        """Identity text: its absence is noted in `unknowns`, never a problem."""
        raw = self.values.get(oid, decode.MISSING)
        reason = None if decode.decode_bytes(raw) is not None else (
            f"printer does not have {what}" if decode.is_missing(raw)
            else f"printer answered {what} with {decode.kind(raw)} instead of text")
        found = self._known(oid, key, what, (raw, reason), False)
        return None if found is None else decode.decode_text(found) or None

    def error_state(self, oid: OID) -> frozenset[str] | None:
        """hrPrinterDetectedErrorState; unknown (None) when absent or not bytes, never
        "no errors"."""
        raw = self.values.get(oid, decode.MISSING)
        octets = decode.decode_bytes(raw)
        reason = None
        if octets is None:
            what = "its error state (hrPrinterDetectedErrorState)"
            reason = (f"printer does not have {what}" if decode.is_missing(raw)
                      else f"printer answered {what} with {decode.kind(raw)} instead of bytes")
        found = self._known(oid, "errors", "its error state", (octets, reason), True)
        return None if found is None else decode.decode_error_state(found)


class SnmpReader:
    """Reads one printer over SNMP v2c. Safe to call concurrently from one event loop."""

    def __init__(self, host: str, port: int = 161, *, community: str = "public",
                 profile: Profile | None = None, timeout: float = 1.0, retries: int = 0,
                 recheck_s: float = RECHECK_S, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.host = host
        self.port = port
        self.profile = profile or load_profile("generic")
        self.timeout = timeout
        self.retries = retries
        self.last_problem: str | None = None
        self._client = SnmpClient(host, port, community=community.encode(), timeout=timeout,
                                  retries=retries)
        self._layout: Layout | None = None
        self._refusals = Refusals(recheck_s, clock)

    @property
    def address(self) -> str:
        return self._client.address

    def _failure(self, exc: Exception) -> str:
        if isinstance(exc, NoAnswer) and exc.junk:
            return f"printer at {self.address} sent data that is not a valid SNMP answer"
        if isinstance(exc, SnmpTransportError):
            return str(exc)
        return f"cannot query {self.address} over SNMP: {exc}"

    async def _request(self, pdu: Pdu) -> Pdu | str:
        """The printer's answer to `pdu`, or why there is none in plain words."""
        try:
            return await self._client.request(pdu)
        except (SnmpTransportError, BerEncodeError, OSError) as exc:
            return self._failure(exc)

    async def _get(self, oids: list[OID]) -> tuple[VarBinds | None, str | None, bool]:
        """One GET; (var-binds, None, False), or (None, why not, whether the printer
        answered with an error status rather than not at all)."""
        answer = await self._request(get_request(0, oids))
        if isinstance(answer, str):
            return None, answer, False
        if answer.error_status:
            index = answer.error_index
            bad = oids[index - 1] if 0 < index <= len(oids) else None
            at = f" at {'.'.join(map(str, bad))}" if bad else ""
            return None, (f"printer at {self.address} refused the request: "
                          f"{error_name(answer.error_status)}{at}"), True
        if len(answer.var_binds) != len(oids):
            return None, f"printer at {self.address} answered the wrong values", False
        return [(vb.oid, vb.value) for vb in answer.var_binds], None, False

    async def _get_each(self, oids: list[OID]) -> tuple[dict[OID, Value] | None, dict[OID, str],
                                                        str | None]:
        """GET that survives a printer refusing some OIDs: a refused request is asked
        again in halves (the error index is not trusted: agents get it wrong), so only the
        OIDs refused alone are lost. (values, refused OID -> why, None), or (None, {},
        why) when the printer did not answer at all."""
        var_binds, problem, refused = await self._get(oids)
        if var_binds is not None:
            return dict(var_binds), {}, None
        if not refused:
            return None, {}, problem
        if len(oids) == 1:
            return {}, {oids[0]: f"printer refused it ({problem})"}, None
        values: dict[OID, Value] = {}
        failed: dict[OID, str] = {}
        middle = len(oids) // 2
        for half in (oids[:middle], oids[middle:]):
            got, lost, problem = await self._get_each(half)
            if got is None:
                return None, {}, problem
            values |= got
            failed |= lost
        return values, failed, None

    async def _get_remembering(self, oids: list[OID], recheck: bool
                               ) -> tuple[dict[OID, Value] | None, dict[OID, str], str | None]:
        """`_get_each`, leaving out the OIDs the printer refused alone before (they come back
        refused, with their reason) unless `recheck`: they are then asked in a GET of their
        own, sent beside the other so the reading takes no longer."""
        remembered = self._refusals.reasons(oids)
        asked = [oid for oid in oids if oid not in remembered]
        if not asked:
            asked, remembered = oids, {}  # a GET is needed to know the printer is there
        if not (recheck and remembered):
            values, refused, problem = await self._get_each(asked)
            if values is not None:
                self._refusals.note(values, refused)
            return values, refused | remembered, problem
        (values, refused, problem), (again, again_refused, _) = await asyncio.gather(
            self._get_each(asked), self._get_each(list(remembered)))
        if values is None:
            return None, {}, problem
        if again is not None:  # else the second GET got no answer: nothing learnt
            values |= again
            remembered = again_refused
        self._refusals.note(values, refused | remembered)
        return values, refused | remembered, None

    async def _walk_columns(self, entry: OID, columns: tuple[int, ...], what: str = "alerts"
                            ) -> tuple[VarBinds, str | None]:
        """GETBULK walk of a few table columns side by side, as snmptable does.

        Each column stream stops when it leaves its column or the MIB ends; a stream that
        does not move forward means a broken agent, so the walk stops rather than loop.
        """
        streams = [((*entry, column), (*entry, column)) for column in columns]  # (start, at)
        cells: VarBinds = []
        while streams and len(cells) < _MAX_ALERT_CELLS:
            answer = await self._request(get_bulk_request(
                0, [at for _, at in streams], max_repetitions=self.profile.bulk_rows))
            if isinstance(answer, str):
                return cells, answer
            if answer.error_status:
                return cells, (f"printer at {self.address} refused to list {what}: "
                               f"{error_name(answer.error_status)}")
            advanced = self._advance(streams, [(vb.oid, vb.value) for vb in answer.var_binds],
                                     cells)
            if advanced is None:
                return cells, f"printer at {self.address} lists {what} out of order"
            streams = advanced
        if streams:
            return cells, (f"printer at {self.address} lists more than {_MAX_ALERT_CELLS} "
                           f"cells of {what}")
        return cells, None

    @staticmethod
    def _advance(streams: list[tuple[OID, OID]], var_binds: Sequence[tuple[OID, Value]],
                 cells: VarBinds) -> list[tuple[OID, OID]] | None:
        """Consume one GETBULK answer; the streams still inside their columns, or None."""
        width = len(streams)
        live = list(streams)
        alive = [True] * width
        for n, (oid, value) in enumerate(var_binds):
            i = n % width
            if not alive[i]:
                continue
            start, at = live[i]
            if oid[: len(start)] != start or decode.is_missing(value):
                alive[i] = False
                continue
            if oid <= at:
                return None
            cells.append((oid, value))
            live[i] = (start, oid)
        if len(var_binds) < width:  # a truncated answer: stop rather than guess
            return []
        return [stream for stream, ok in zip(live, alive, strict=True) if ok]

    def _default_layout(self) -> Layout:
        """The indexes written in the profile's life_count_oid (…device.marker)."""
        device, marker = self.profile.oid("life_count_oid")[-2:]
        return Layout(device, ((device, marker),))

    async def layout(self) -> Layout:
        """The printer's device and markers, walked once and kept (walked again after the
        printer restarts); the profile's indexes when the profile says not to walk or the
        walk gets no answer (tried again)."""
        if self._layout is not None:
            return self._layout
        default = self._default_layout()
        if not self.profile.find_indexes:
            self._layout = default
            return default
        types, problem = await self._walk_columns(HR_DEVICE_ENTRY, (HR_DEVICE_TYPE_COL,),
                                                  "its devices")
        lives, life_problem = await self._walk_columns(PRT_MARKER_ENTRY, (PRT_MARKER_LIFE_COL,),
                                                       "its markers")
        if (problem or life_problem) and not (types or lives):
            return default
        self._layout = find_layout(types, lives, default)
        return self._layout

    async def read(self) -> PrinterSnapshot:
        """Counters, status, errors, identity and alerts: three round trips (four when the
        printer has more than `profile.bulk_rows` alerts), plus a walk on the first read."""
        p = self.profile
        layout = await self.layout()
        lives = [layout.oid("life_count_oid", p.oid("life_count_oid"), m)
                 for m in layout.markers]
        units = [layout.oid("counter_unit_oid", p.oid("counter_unit_oid"), m)
                 for m in layout.markers]
        required = {name: layout.oid(name, p.oid(name)) for name in _REQUIRED}
        recheck = self._refusals.due()
        values, refused, problem = await self._get_remembering([*lives, *required.values()],
                                                               recheck)
        if values is None:
            self.last_problem = problem
            return PrinterSnapshot(reachable=False, problem=problem)
        optional = {name: layout.oid(name, p.oid(name)) for name in _OPTIONAL}
        vendor = {name: tuple(int(x) for x in oid.split("."))
                  for name, oid in p.vendor_counters.items()}
        extra, extra_refused, _ = await self._get_remembering(
            list(dict.fromkeys([*optional.values(), *units[1:], *vendor.values()])), recheck)
        values |= extra or {}
        refused |= extra_refused
        if recheck:
            self._refusals.asked()
        uptime = values.get(optional["uptime_oid"])
        if self._refusals.uptime(int(uptime) if isinstance(uptime, TimeTicks) else None):
            self._layout = None  # new firmware may number its device and markers anew
        decoded = _Decoded(values, refused, p.counter_bits)
        unit_oids = [optional["counter_unit_oid"], *units[1:]]
        markers = tuple(
            MarkerCount(d, m, decoded.counter(life, f"marker {d}.{m}", f"the page counter of "
                                              f"marker {d}.{m}", note=False),
                        decoded.enum(unit, decode.COUNTER_UNITS, f"marker {d}.{m} unit",
                                     "its unit", note=False))
            for (d, m), life, unit in zip(layout.markers, lives, unit_oids, strict=True))
        unit = decoded.enum(optional["counter_unit_oid"], decode.COUNTER_UNITS, "counter_unit",
                            "its counter unit (prtMarkerCounterUnit)", note=False)
        life_count = decoded.counter(lives[0], "life_count", "its page counter")
        power_on_count = decoded.counter(optional["power_on_oid"], "power_on_count",
                                         "its power-on count", note=False)
        device_status = decoded.enum(required["device_status_oid"], decode.DEVICE_STATUS,
                                     "device_status", "its device status")
        printer_status = decoded.enum(required["printer_status_oid"], decode.PRINTER_STATUS,
                                      "printer_status", "its printer status")
        errors = decoded.error_state(required["error_state_oid"])
        serial = decoded.text(optional["serial_oid"], "serial", "its serial number")
        console = decoded.text(optional["console_oid"], "console", "its console text")
        counters = {name: decoded.counter(oid, name, f"its {name} counter", note=False)
                    for name, oid in vendor.items()}
        rows, walk_problem = await self._walk_columns(p.oid("alert_entry_oid"), _ALERT_COLUMNS)
        problems = [*decoded.problems, *([walk_problem] if walk_problem else [])]
        self.last_problem = "; ".join(problems) or None
        return PrinterSnapshot(
            reachable=True,
            counter_unit=unit,
            alerts=decode.decode_alerts(rows, p.oid("alert_entry_oid")),
            uptime_ticks=int(uptime) if isinstance(uptime, TimeTicks) else None,
            problem=self.last_problem,
            device_index=layout.device,
            markers=markers,
            counter_unit_assumed=None if unit else p.counter_unit,
            vendor_counters={k: v for k, v in counters.items() if v is not None},
            unknowns=decoded.unknowns,
            life_count=life_count, power_on_count=power_on_count, device_status=device_status,
            printer_status=printer_status, errors=errors, serial=serial, console=console,
        )

    async def life_count(self) -> int | None:
        """prtMarkerLifeCount alone, in one GET; None if unknown (see `last_problem`)."""
        layout = await self.layout()
        oid = layout.oid("life_count_oid", self.profile.oid("life_count_oid"))
        var_binds, problem, _ = await self._get([oid])
        if var_binds is None:
            self.last_problem = problem
            return None
        count, self.last_problem = decode.decode_counter(
            var_binds[0][1], "its page counter", self.profile.counter_bits)
        return count

    def close(self) -> None:
        """Release the UDP socket; the reader may be used again afterwards."""
        self._client.close()

