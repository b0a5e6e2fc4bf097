"""Reader config (`[[readers]]` tables) → running reader drivers feeding the login service.

    [[readers]]
    name = "front-rfid"
    kind = "serial"                       # serial | evdev | evdev-fifo
    path = "/dev/serial/by-id/usb-...-if00-port0"
    baudrate = 9600
    framing = "stx-etx"                   # line | stx-etx | fixed
    checksum = "xor-hex"                  # none | xor | xor-hex | lrc | lrc-hex
    conversions = ["regex:^..(.{8})$", "hex2dec:10"]
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import msgspec

from agent.identity.conversions import Chain, ConversionConfigError, parse_chain
from drivers.readers import keymap
from drivers.readers.evdev_reader import DeviceSource, EvdevReader, RecordSource, WedgeSettings
from drivers.readers.framing import (
    Checksum,
    FixedFramer,
    Framer,
    LineFramer,
    Payload,
    StxEtxFramer,
)
from drivers.readers.serial_reader import SerialReader

Reader = SerialReader | EvdevReader


class ReaderConfigError(ValueError):
    """Reader settings that cannot be used; the message says which reader and why."""


class ReaderConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    kind: Literal["serial", "evdev", "evdev-fifo"]
    path: str
    conversions: list[str] = msgspec.field(default_factory=list)
    duplicate_s: float = 2.0
    max_length: int = 64
    # serial
    baudrate: int = 9600
    framing: Literal["line", "stx-etx", "fixed"] = "line"
    checksum: Checksum = "none"
    payload: Payload = "ascii"
    length: int | None = None
    gap_s: float | None = None  # pause that discards a partial swipe or frame
    # evdev
    terminators: list[str] = msgspec.field(default_factory=lambda: ["KEY_ENTER", "KEY_KPENTER"])
    grab: bool = True


def parse_readers(raw: Sequence[Any]) -> list[ReaderConfig]:
    """Validate `[[readers]]` tables with errors that name the reader and the setting."""
    try:
        configs = msgspec.convert(list(raw), list[ReaderConfig])
    except msgspec.ValidationError as exc:
        raise ReaderConfigError(f"reader settings: {exc}") from exc
    names: set[str] = set()
    for cfg in configs:
        if cfg.name in names:
            raise ReaderConfigError(f"two readers are named {cfg.name!r}; names must differ")
        names.add(cfg.name)
        try:
            chain(cfg)
            build(cfg)
        except (ConversionConfigError, ValueError) as exc:
            raise ReaderConfigError(f"reader {cfg.name!r}: {exc}") from exc
    return configs


def chain(cfg: ReaderConfig) -> Chain:
    return parse_chain(cfg.conversions)


def _framer(cfg: ReaderConfig) -> Framer:
    gap = {"gap_s": cfg.gap_s} if cfg.gap_s is not None else {}
    if cfg.framing == "fixed":
        if cfg.length is None:
            raise ValueError("framing 'fixed' needs a length (bytes per frame)")
        return FixedFramer(cfg.length, payload=cfg.payload, **gap)
    if cfg.checksum != "none" and cfg.framing != "stx-etx":
        raise ValueError("a checksum needs framing 'stx-etx'")
    if cfg.framing == "stx-etx":
        return StxEtxFramer(checksum=cfg.checksum, payload=cfg.payload,
                            max_length=cfg.max_length, **gap)
    return LineFramer(payload=cfg.payload, max_length=cfg.max_length, **gap)


def build(cfg: ReaderConfig) -> Reader:
    if cfg.max_length < 1:
        raise ValueError("max_length must be at least 1")
    if cfg.kind == "serial":
        if cfg.baudrate <= 0:
            raise ValueError("baudrate must be a positive number")
        return SerialReader(cfg.name, cfg.path, _framer(cfg), baudrate=cfg.baudrate,
                            duplicate_s=cfg.duplicate_s)
    if not cfg.terminators:
        raise ValueError("an evdev reader needs at least one terminator key")
    settings = WedgeSettings(frozenset(keymap.key_code(k) for k in cfg.terminators),
                             cfg.gap_s if cfg.gap_s is not None else 0.3,
                             cfg.duplicate_s, cfg.max_length)
    source = DeviceSource(cfg.path, cfg.grab) if cfg.kind == "evdev" else RecordSource(cfg.path)
    return EvdevReader(cfg.name, source, settings)


async def run_readers(readers: Sequence[Reader],
                      on_card: Callable[[str, str], Awaitable[object]]) -> None:
    """Run every reader until cancelled; each card goes to `on_card(reader_name, card)`."""

    def handler(name: str) -> Callable[[str], Awaitable[None]]:
        async def handle(card: str) -> None:
            await on_card(name, card)
        return handle

    async with asyncio.TaskGroup() as group:
        for reader in readers:
            group.create_task(reader.run(handler(reader.name)), name=f"reader-{reader.name}")
