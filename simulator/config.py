"""Simulator settings: flags or a TOML file, validated with plain-English errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec

from simulator.line_faults import LineFaults
from simulator.profiles import combine


class SimConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    http_port: int = 8631
    snmp_port: int = 1161
    snmp_community: str = "public"
    ppm: float = 30.0
    warmup_s: float = 2.0
    sleep_after_s: float = 300.0
    seed: int = 0
    hold_all: bool = False
    fault_rate: float = 0.0
    jam_then: str = "continue"
    lines_per_page: int = 60
    name: str = "PageTally Sim MFD"
    serial_number: str = "SIM0000001"
    max_request_bytes: int = 64 * 1024 * 1024
    # Quirk: Get-Jobs lists completed jobs oldest first, against RFC 8011 §4.2.6.2, as some
    # printers do. The agent must notice and read the whole history instead of one page.
    get_jobs_oldest_first: bool = False
    # A site with no copier interface board: the walk-up copier copies whenever asked and
    # sends no pulses (the board's pty is still there, wired to nothing).
    copier_without_board: bool = False
    # The copier board's serial line from the start: bytes changed, lost, split, delayed
    # ([sim.board_line]; POST /sim/board/line changes it while running).
    board_line: LineFaults = msgspec.field(default_factory=LineFaults)
    # Quirk profiles (simulator.profiles) the device imitates, combined in order.
    profiles: list[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.ppm <= 0:
            raise ValueError("ppm must be greater than 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.jam_then not in {"abort", "continue"}:
            raise ValueError("jam_then must be 'abort' or 'continue'")
        for name in ("http_port", "snmp_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ValueError(f"{name} must be a port number from 0 to 65535, got {port}")
        if self.lines_per_page < 1:
            raise ValueError("lines_per_page must be at least 1")
        combine(self.profiles)  # ProfileError is a ValueError: msgspec reports it

    @property
    def page_seconds(self) -> float:
        return 60.0 / self.ppm


class ConfigError(Exception):
    """A config file that cannot be used, with the reason in plain words."""


def load_config(path: Path | None, overrides: dict[str, object]) -> SimConfig:
    """Merge a TOML file (section [sim] or top level) with command-line overrides."""
    data: dict[str, object] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        section = raw.get("sim", raw)
        if not isinstance(section, dict):
            raise ConfigError(f"config file {path}: [sim] must be a table")
        data.update(section)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(data, SimConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid simulator setting: {exc}") from exc
