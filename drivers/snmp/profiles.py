"""Printer profiles: which OIDs to read and which quirks a model has, as data (TOML files).

A profile may `extends = "generic"` and override a few settings, so a new printer model
is a short TOML file, not code. Bad files fail with the file, setting and reason named.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from drivers.snmp.decode import COUNTER_UNITS

_OID_RE = re.compile(r"^\d+(\.\d+)+$")
_SHIPPED = resources.files(__package__).joinpath("profiles")


class ProfileError(Exception):
    """A profile that cannot be used, with the reason in plain words."""


@dataclass(frozen=True)
class Profile:
    """What to read from one printer model and how to trust it."""

    name: str
    description: str
    life_count_oid: str
    power_on_oid: str
    counter_unit_oid: str
    counter_unit: str  # assumed when the printer does not report prtMarkerCounterUnit
    counter_bits: int  # the counter wraps at 2**counter_bits
    saves_every: int  # the printer stores the counter only every N pages (1 = every page)
    idle_polls: int  # consecutive idle, unchanged polls before a counter is trusted
    bulk_rows: int  # alert rows per GETBULK; lower it for printers that answer tooBig
    uptime_oid: str
    device_status_oid: str
    printer_status_oid: str
    error_state_oid: str
    serial_oid: str
    console_oid: str
    alert_entry_oid: str
    find_indexes: bool = True
    """Walk hrDeviceType and prtMarkerLifeCount for the printer's device and markers; the
    indexes in the *_oid settings are used when the walk shows none."""
    vendor_counters: dict[str, str] = field(default_factory=dict)
    """Vendor counters read besides the standard ones, name -> OID (e.g. copy_mono)."""

    def oid(self, name: str) -> tuple[int, ...]:
        """One of the *_oid settings as a tuple of integers."""
        return _oid(getattr(self, name))


def _oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


_FIELDS = {f.name: f for f in dataclasses.fields(Profile)}
_OPTIONAL = {"find_indexes", "vendor_counters"}
_INTS = {"counter_bits", "saves_every", "idle_polls", "bulk_rows"}


def available_profiles() -> list[str]:
    """Names of the profiles shipped with PageTally."""
    return sorted(p.name.removesuffix(".toml") for p in _SHIPPED.iterdir()
                  if p.name.endswith(".toml"))


def _read_table(name_or_path: str) -> tuple[str, dict[str, Any], str]:
    """(display name, raw table, default profile name) for a shipped name or a file path."""
    looks_like_path = name_or_path.endswith(".toml") or "/" in name_or_path
    if looks_like_path:
        path = Path(name_or_path)
        where = f"profile file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"cannot read {where}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ProfileError(f"{where} is not UTF-8 text: {exc.reason}") from exc
        stem = path.stem
    else:
        shipped = _SHIPPED.joinpath(f"{name_or_path}.toml")
        if not shipped.is_file():
            raise ProfileError(f"no printer profile named {name_or_path!r}; available: "
                               f"{', '.join(available_profiles())}")
        where = f"profile {name_or_path!r}"
        text = shipped.read_text(encoding="utf-8")
        stem = name_or_path
    try:
        return where, tomllib.loads(text), stem
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{where} is not valid TOML: {exc}") from exc


def _check(where: str, key: str, value: Any) -> None:
    if key not in _FIELDS and key != "extends":
        known = ", ".join(sorted([*_FIELDS, "extends"]))
        raise ProfileError(f"{where}: unknown setting {key!r} (known settings: {known})")
    if key == "find_indexes":
        if not isinstance(value, bool):
            raise ProfileError(f"{where}: 'find_indexes' must be true or false, got {value!r}")
        return
    if key == "vendor_counters":
        if not isinstance(value, dict):
            raise ProfileError(f"{where}: 'vendor_counters' must be a table of name = OID")
        for name, oid in value.items():
            if not isinstance(oid, str) or not _OID_RE.match(oid):
                raise ProfileError(f"{where}: vendor counter {name!r} must be a dotted OID, "
                                   f"got {oid!r}")
        return
    if key in _INTS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ProfileError(f"{where}: {key!r} must be a whole number, got {value!r}")
        if key == "counter_bits" and value not in (32, 64):
            raise ProfileError(f"{where}: 'counter_bits' must be 32 or 64, got {value}")
        if value < 1:
            raise ProfileError(f"{where}: {key!r} must be at least 1, got {value}")
        return
    if not isinstance(value, str):
        raise ProfileError(f"{where}: {key!r} must be text, got {value!r}")
    if key.endswith("_oid") and not _OID_RE.match(value):
        raise ProfileError(f"{where}: {key!r} must be a dotted OID such as "
                           f"1.3.6.1.2.1.43.10.2.1.4.1.1, got {value!r}")
    if key == "counter_unit" and value not in COUNTER_UNITS.values():
        units = ", ".join(sorted(COUNTER_UNITS.values()))
        raise ProfileError(f"{where}: 'counter_unit' must be one of {units}; got {value!r}")


def _resolve(name_or_path: str, seen: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    where, table, stem = _read_table(name_or_path)
    for key, value in table.items():
        _check(where, key, value)
    own = {"name": stem, "description": "", **table}
    parent = own.pop("extends", None)
    if parent is None:
        return where, own
    if parent in (*seen, name_or_path):
        chain = " -> ".join([*seen, name_or_path, parent])
        raise ProfileError(f"{where}: 'extends' goes round in a circle: {chain}")
    _, inherited = _resolve(parent, (*seen, name_or_path))
    inherited.pop("name")
    inherited.pop("description")
    return where, {**inherited, **own}


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name ("generic", "pagetally-sim") or a TOML file by path."""
    where, settings = _resolve(name_or_path, ())
    missing = sorted(set(_FIELDS) - _OPTIONAL - set(settings))
    if missing:
        raise ProfileError(f"{where}: missing settings: {', '.join(missing)} "
                           f"(add them, or start the file with extends = \"generic\")")
    return Profile(**settings)
