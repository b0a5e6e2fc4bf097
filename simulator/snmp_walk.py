"""Serve a recorded SNMP walk (snmpsim's .snmprec: `OID|type|value` a line) over real UDP.

So the SNMP driver is tested against what real printers answered, through pysnmp on the
wire, not against our own idea of them. `gen_err` names OIDs answered with genErr, as some
printers do for an object they list but cannot read.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

from pyasn1.type.base import Asn1Item
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

OID = tuple[int, ...]
VarBind = tuple[Any, Any]


class WalkFormatError(ValueError):
    """A line of a .snmprec file that cannot be read; says which line and why."""


def _value(kind: str, text: str) -> Asn1Item:
    """One recorded value: the type code of snmpsim's format, with x for hex octets."""
    if kind.endswith("x"):
        raw = bytes.fromhex(text)
        kind = kind[:-1]
        if kind == "4":
            return rfc1902.OctetString(raw)
        if kind == "64":
            return rfc1902.IpAddress(raw)
        text = raw.decode("ascii")
    match kind:
        case "2":
            return rfc1902.Integer32(int(text))
        case "4":
            return rfc1902.OctetString(text.encode("utf-8"))
        case "6":
            return rfc1902.ObjectName(text)
        case "64":
            return rfc1902.IpAddress(text)
        case "65":
            return rfc1902.Counter32(int(text))
        case "66":
            return rfc1902.Gauge32(int(text))
        case "67":
            return rfc1902.TimeTicks(int(text))
        case "70":
            return rfc1902.Counter64(int(text))
    raise WalkFormatError(f"unknown value type {kind!r}")


def load_walk(path: Path) -> dict[OID, Asn1Item]:
    """OID -> value of every line of a .snmprec file."""
    values: dict[OID, Asn1Item] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            oid, kind, text = line.split("|", 2)
            values[tuple(int(p) for p in oid.split("."))] = _value(kind, text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WalkFormatError(f"{path.name} line {number}: {exc}") from exc
    return values


class WalkInstrumentation(AbstractMibInstrumController):
    """Read-only answers from a recorded walk; `gen_err` OIDs fail with genErr."""

    def __init__(self, values: dict[OID, Asn1Item], gen_err: frozenset[OID] = frozenset()
                 ) -> None:
        self.values = values
        self.order = sorted(values)
        self.gen_err = gen_err

    def read_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        answers = []
        for idx, (name, _) in enumerate(var_binds):
            oid = tuple(name)
            if oid in self.gen_err:
                raise smi_error.GenError(name=name, idx=idx)
            answers.append((name, self.values.get(oid, rfc1905.noSuchInstance)))
        return answers

    def read_next_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        answers: list[VarBind] = []
        for name, _ in var_binds:
            at = bisect.bisect_right(self.order, tuple(name))
            if at == len(self.order):
                answers.append((name, rfc1905.endOfMibView))
            else:
                oid = self.order[at]
                answers.append((rfc1902.ObjectName(oid), self.values[oid]))
        return answers

    def write_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        name = var_binds[0][0] if var_binds else None
        raise smi_error.NotWritableError(name=name, idx=0)
