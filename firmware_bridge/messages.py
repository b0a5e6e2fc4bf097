"""Typed, frozen views of the protocol's payloads for the host (CPython only).

`protocol.py` stays untyped so MicroPython can run it; these dataclasses give
the host and the tests names and types on top of the same bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from firmware_bridge import protocol as p


class OffReason(enum.IntEnum):
    ON = p.OFF_NONE
    BOOT = p.OFF_BOOT
    HOST = p.OFF_HOST
    LEASE = p.OFF_LEASE
    LIMIT = p.OFF_LIMIT


class ResetCause(enum.IntEnum):
    POWER_ON = p.RESET_POWER_ON
    WATCHDOG = p.RESET_WATCHDOG
    OTHER = p.RESET_OTHER


class PageKind(enum.IntEnum):
    MONO = 0
    COLOUR = 1
    MONO_LARGE = 2
    COLOUR_LARGE = 3


NAK_WORDS = {
    p.NAK_UNKNOWN: "the board does not know this command",
    p.NAK_LENGTH: "the command had the wrong length",
    p.NAK_VALUE: "a value was out of range",
    p.NAK_BUSY: "not allowed while copying is enabled",
    p.NAK_NOT_CONFIGURED: "no counting channel is configured",
    p.NAK_NOT_ENABLED: "copying is not enabled",
}


@dataclass(frozen=True)
class Frame:
    seq: int
    kind: int
    payload: bytes

    def to_bytes(self) -> bytes:
        return p.encode(self.seq, self.kind, self.payload)


@dataclass(frozen=True)
class Counter:
    pulses: int
    pages: int


@dataclass(frozen=True)
class Status:
    """One STATUS snapshot: the relay and the cumulative counters since boot."""

    boot_id: int
    uptime_ms: int
    relay: bool
    off_reason: OffReason
    session: int
    limit: int
    used: int
    channels: tuple[Counter, ...]

    @classmethod
    def from_bytes(cls, data: bytes) -> Status:
        boot, up, relay, off, session, limit, used, counters = p.unpack_status(data)
        return cls(boot, up, bool(relay), OffReason(off) if off <= 4 else OffReason.BOOT,
                   session, limit, used, tuple(Counter(a, b) for a, b in counters))

    def to_bytes(self) -> bytes:
        return p.pack_status(self.boot_id, self.uptime_ms, int(self.relay), int(self.off_reason),
                             self.session, self.limit, self.used,
                             [(c.pulses, c.pages) for c in self.channels])

    def pages_since(self, earlier: Status, channel: int) -> int:
        """Pages on one channel from `earlier` to this snapshot (same boot), across a wrap."""
        if earlier.boot_id != self.boot_id:
            raise ValueError("snapshots from two boots of the board cannot be compared")
        return p.wrap_delta(self.channels[channel].pages, earlier.channels[channel].pages)


@dataclass(frozen=True)
class Identity:
    protocol: int
    firmware: tuple[int, int, int]
    boot_id: int
    reset_cause: ResetCause
    channels: int

    @classmethod
    def from_bytes(cls, data: bytes) -> Identity:
        proto, fw, boot, cause, channels = p.unpack_identity(data)
        return cls(proto, fw, boot, ResetCause(min(cause, p.RESET_OTHER)), channels)

    def to_bytes(self) -> bytes:
        return p.pack_identity(self.boot_id, int(self.reset_cause), self.channels,
                               self.protocol, self.firmware)

    @property
    def firmware_text(self) -> str:
        return ".".join(str(x) for x in self.firmware)


@dataclass(frozen=True)
class ChannelConfig:
    """What one counting channel of the board counts (CONFIGURE)."""

    channel: int
    pin: int
    kind: PageKind = PageKind.MONO
    pulses_per_page: int = 1
    min_pulse_ms: int = 30
    weight: int = 1
    active_low: bool = False

    def to_bytes(self) -> bytes:
        return p.pack_configure(self.channel, self.pin, int(self.kind), int(self.active_low),
                                self.pulses_per_page, self.min_pulse_ms, self.weight)

    @classmethod
    def from_bytes(cls, data: bytes) -> ChannelConfig:
        ch, pin, kind, flags, ppp, min_ms, weight = p.unpack_configure(data)
        return cls(ch, pin, PageKind(kind & 3), ppp, min_ms, weight, bool(flags & 1))


@dataclass(frozen=True)
class Ack:
    command: int
    status: Status

    @classmethod
    def from_bytes(cls, data: bytes) -> Ack:
        return cls(data[0], Status.from_bytes(data[1:]))


@dataclass(frozen=True)
class Nak:
    command: int
    reason: int

    @classmethod
    def from_bytes(cls, data: bytes) -> Nak:
        return cls(data[0], data[1])

    @property
    def words(self) -> str:
        return NAK_WORDS.get(self.reason, f"refused (reason {self.reason})")
