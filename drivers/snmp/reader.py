"""Async Printer-MIB + Host Resources reader on pysnmp's asyncio high-level API.

One GET carries every scalar the agent needs and one GETBULK walk fetches the alert
table, so a full read is two round trips. Timeouts, "-2 unknown", wrong types and junk
become unknown values with `problem` set in plain words; nothing here raises for them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pyasn1.type.base import Asn1Item
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    bulk_cmd,
    get_cmd,
)
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import TimeTicks

from drivers.snmp import decode
from drivers.snmp.decode import OID, Alert
from drivers.snmp.profiles import Profile, load_profile
from drivers.snmp.transport import GuardedUdp6Target, GuardedUdpTarget, received_count

T = TypeVar("T")
Target = GuardedUdpTarget | GuardedUdp6Target
VarBinds = list[tuple[OID, Asn1Item]]

# Scalars read in the one GET of a full read, as Profile *_oid fields.
_SCALARS = ("uptime_oid", "device_status_oid", "printer_status_oid", "error_state_oid",
            "life_count_oid", "power_on_oid", "counter_unit_oid", "serial_oid", "console_oid")
_ALERT_COLUMNS = (decode.ALERT_SEVERITY_COL, decode.ALERT_GROUP_COL, decode.ALERT_CODE_COL,
                  decode.ALERT_DESCRIPTION_COL)
_MAX_ALERT_CELLS = 512  # stop walking a table that never ends (broken agents loop)


@dataclass(frozen=True)
class PrinterSnapshot:
    """What the printer said at one moment; None means unknown and `problem` says why."""

    reachable: bool
    life_count: int | None = None
    power_on_count: int | None = None
    counter_unit: str | None = None
    device_status: str | None = None
    printer_status: str | None = None
    errors: frozenset[str] = frozenset()
    alerts: tuple[Alert, ...] = ()
    serial: str | None = None
    console: str | None = None
    uptime_ticks: int | None = None
    problem: str | None = None
    read_at: float = field(default_factory=time.monotonic)

    @property
    def idle(self) -> bool:
        return self.reachable and self.printer_status == "idle"


def _note(problems: list[str], result: tuple[T, str | None]) -> T:
    """Keep a decoded value and remember why it is unknown, if it is."""
    value, problem = result
    if problem:
        problems.append(problem)
    return value


class SnmpReader:
    """Reads one printer over SNMP v2c. Safe to call concurrently from one event loop."""

    def __init__(self, host: str, port: int = 161, *, community: str = "public",
                 profile: Profile | None = None, timeout: float = 1.0, retries: int = 0) -> None:
        self.host = host
        self.port = port
        self.profile = profile or load_profile("generic")
        self.timeout = timeout
        self.retries = retries
        self.last_problem: str | None = None
        self._auth = CommunityData(community, mpModel=1)
        self._context = ContextData()
        self._engine: SnmpEngine | None = None
        self._target: Target | None = None
        self._requests: dict[tuple[OID, ...], tuple[ObjectType, ...]] = {}

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    async def _connect(self) -> tuple[SnmpEngine, Target]:
        """Create the engine and target on first use, inside the running event loop."""
        if self._engine is None:
            self._engine = SnmpEngine()
        if self._target is None:
            cls = GuardedUdp6Target if ":" in self.host else GuardedUdpTarget
            self._target = await cls.create((self.host, self.port), timeout=self.timeout,
                                            retries=self.retries)
        return self._engine, self._target

    def _failure(self, indication: object, heard_before: int) -> str:
        if received_count(self._target) > heard_before:
            return f"printer at {self.address} sent data that is not a valid SNMP answer"
        if isinstance(indication, errind.RequestTimedOut):
            tries = f" ({self.retries + 1} tries)" if self.retries else ""
            return f"no answer from {self.address} within {self.timeout:g} s{tries}"
        return f"SNMP request to {self.address} failed: {indication}"

    async def _get(self, oids: list[OID]) -> tuple[VarBinds | None, str | None]:
        """One GET; (var-binds, None) or (None, why not)."""
        try:
            engine, target = await self._connect()
            heard_before = received_count(target)
            indication, status, index, var_binds = await get_cmd(
                engine, self._auth, target, self._context,
                *self._object_types(tuple(oids)), lookupMib=False)
        except (PySnmpError, OSError) as exc:
            return None, f"cannot query {self.address} over SNMP: {exc}"
        if indication:
            return None, self._failure(indication, heard_before)
        if status:
            bad = oids[int(index) - 1] if 0 < int(index) <= len(oids) else None
            at = f" at {'.'.join(map(str, bad))}" if bad else ""
            return None, (f"printer at {self.address} refused the request: "
                          f"{status.prettyPrint()}{at}")
        return [(tuple(name), value) for name, value in var_binds], None

    def _object_types(self, oids: tuple[OID, ...]) -> tuple[ObjectType, ...]:
        """Request var-binds, built once: pysnmp skips re-resolving a resolved ObjectType."""
        cached = self._requests.get(oids)
        if cached is None:
            cached = tuple(ObjectType(ObjectIdentity(oid)) for oid in oids)
            if len(self._requests) < 64:
                self._requests[oids] = cached
        return cached

    async def _walk_columns(self, entry: OID, columns: tuple[int, ...]
                            ) -> tuple[VarBinds, str | None]:
        """GETBULK walk of a few table columns side by side, as snmptable does.

        Each column stream stops when it leaves its column or the MIB ends; a stream that
        does not move forward means a broken agent, so the walk stops rather than loop.
        """
        streams = [((*entry, column), (*entry, column)) for column in columns]  # (start, at)
        cells: VarBinds = []
        try:
            engine, target = await self._connect()
            while streams and len(cells) < _MAX_ALERT_CELLS:
                heard_before = received_count(target)
                request = self._object_types(tuple(at for _, at in streams))
                indication, status, _, var_binds = await bulk_cmd(
                    engine, self._auth, target, self._context, 0, self.profile.bulk_rows, *request,
                    lookupMib=False)
                if indication:
                    return cells, self._failure(indication, heard_before)
                if status:
                    return cells, (f"printer at {self.address} refused to list alerts: "
                                   f"{status.prettyPrint()}")
                streams = self._advance(streams, var_binds, cells)
                if streams is None:
                    return cells, f"printer at {self.address} lists alerts out of order"
        except (PySnmpError, OSError) as exc:
            return cells, f"cannot list alerts on {self.address}: {exc}"
        if streams:
            return cells, (f"printer at {self.address} lists more than {_MAX_ALERT_CELLS} "
                           "alert cells")
        return cells, None

    @staticmethod
    def _advance(streams: list[tuple[OID, OID]], var_binds: Sequence[Any], cells: VarBinds
                 ) -> list[tuple[OID, OID]] | None:
        """Consume one GETBULK answer; the streams still inside their columns, or None."""
        width = len(streams)
        live = list(streams)
        alive = [True] * width
        for n, (name, value) in enumerate(var_binds):
            i = n % width
            if not alive[i]:
                continue
            start, at = live[i]
            oid = tuple(name)
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

    async def read(self) -> PrinterSnapshot:
        """Counters, status, errors, identity and alerts: two round trips when the printer
        has at most `profile.bulk_rows` alerts, one more per further `bulk_rows` alerts."""
        p = self.profile
        oids = [p.oid(name) for name in _SCALARS]
        var_binds, problem = await self._get(oids)
        if var_binds is None or len(var_binds) != len(oids):
            self.last_problem = problem or f"printer at {self.address} answered the wrong values"
            return PrinterSnapshot(reachable=False, problem=self.last_problem)
        values = dict(zip(_SCALARS, (value for _, value in var_binds), strict=True))
        problems: list[str] = []
        keep = functools.partial(_note, problems)
        life = keep(decode.decode_counter(values["life_count_oid"], "its page counter",
                                          p.counter_bits))
        power_on, _ = decode.decode_counter(values["power_on_oid"], "power-on count",
                                            p.counter_bits)
        unit, _ = decode.decode_enum(values["counter_unit_oid"], decode.COUNTER_UNITS, "unit")
        device = keep(decode.decode_enum(values["device_status_oid"], decode.DEVICE_STATUS,
                                         "its device status"))
        printer = keep(decode.decode_enum(values["printer_status_oid"], decode.PRINTER_STATUS,
                                          "its printer status"))
        raw_errors = decode.decode_bytes(values["error_state_oid"])
        uptime = values["uptime_oid"]
        rows, walk_problem = await self._walk_columns(p.oid("alert_entry_oid"), _ALERT_COLUMNS)
        if walk_problem:
            problems.append(walk_problem)
        self.last_problem = "; ".join(problems) or None
        return PrinterSnapshot(
            reachable=True,
            life_count=life,
            power_on_count=power_on,
            counter_unit=unit or p.counter_unit,
            device_status=device,
            printer_status=printer,
            errors=decode.decode_error_state(raw_errors or b""),
            alerts=decode.decode_alerts(rows, p.oid("alert_entry_oid")),
            serial=decode.decode_text(values["serial_oid"]) or None,
            console=decode.decode_text(values["console_oid"]),
            uptime_ticks=int(uptime) if isinstance(uptime, TimeTicks) else None,
            problem=self.last_problem,
        )

    async def life_count(self) -> int | None:
        """prtMarkerLifeCount alone, in one GET; None if unknown (see `last_problem`)."""
        var_binds, problem = await self._get([self.profile.oid("life_count_oid")])
        if var_binds is None:
            self.last_problem = problem
            return None
        count, self.last_problem = decode.decode_counter(
            var_binds[0][1], "its page counter", self.profile.counter_bits)
        return count

    def close(self) -> None:
        """Release the UDP socket; the reader may be used again afterwards."""
        if self._engine is not None:
            self._engine.close_dispatcher()
        self._engine = None
        self._target = None
