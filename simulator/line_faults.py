"""Faults on the copier board's serial line, as config: what a long or noisy run does to bytes.

A real line between a Pi and a board by a copier changes bytes (noise), loses them (an
overrun, a loose contact), hands them over in odd pieces (USB adapters, the kernel's tty
buffering) and late. `LineFaults` says how much of each, per direction; `Line.carry` turns
one write into the pieces the other side receives and when. Pure: the caller owns the
clock and the delivery. Order is kept, as on any serial line.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

import msgspec

Direction = Literal["to_host", "to_board"]


class LineFaults(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    corrupt: float = 0.0
    """Chance that a byte arrives changed."""
    drop: float = 0.0
    """Chance that a byte is lost."""
    split: int = 0
    """Each write arrives in pieces of 1 to `split` bytes (0: as written)."""
    delay_ms: int = 0
    """Each write arrives 0 to `delay_ms` late."""
    direction: Literal["to_host", "to_board", "both"] = "both"
    seed: int | None = None
    """Seeds the faults' randomness, so a test sees the same damage every run."""

    def __post_init__(self) -> None:
        for name in ("corrupt", "drop"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a chance per byte, from 0 to 1")
        if self.split < 0 or self.delay_ms < 0:
            raise ValueError("split and delay_ms must be 0 or more")

    def applies(self, direction: Direction) -> bool:
        return self.direction in (direction, "both")

    @property
    def active(self) -> bool:
        return bool(self.corrupt or self.drop or self.split or self.delay_ms)


@dataclass
class Line:
    """One serial line with its faults; `stats` counts the damage done, for tests to check."""

    faults: LineFaults = field(default_factory=LineFaults)
    rng: random.Random = field(default_factory=random.Random)
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("writes", "bytes", "corrupted", "dropped", "pieces", "delayed"), 0))

    def configure(self, faults: LineFaults) -> None:
        self.faults = faults
        if faults.seed is not None:
            self.rng.seed(faults.seed)
        self.stats = dict.fromkeys(self.stats, 0)

    def carry(self, direction: Direction, data: bytes) -> list[tuple[float, bytes]]:
        """The pieces of `data` that arrive, each with its delay in seconds from now."""
        f = self.faults
        if not data or not f.applies(direction) or not f.active:
            return [(0.0, data)] if data else []
        rng, stats = self.rng, self.stats
        stats["writes"] += 1
        stats["bytes"] += len(data)
        out = bytearray()
        for byte in data:
            if f.drop and rng.random() < f.drop:
                stats["dropped"] += 1
                continue
            if f.corrupt and rng.random() < f.corrupt:
                stats["corrupted"] += 1
                byte ^= rng.randrange(1, 256)
            out.append(byte)
        delay = rng.uniform(0, f.delay_ms) / 1000 if f.delay_ms else 0.0
        stats["delayed"] += delay > 0
        pieces = []
        pos = 0
        while pos < len(out):
            size = rng.randint(1, f.split) if f.split else len(out)
            pieces.append((delay, bytes(out[pos:pos + size])))
            pos += size
        stats["pieces"] += len(pieces)
        return pieces

    def state(self) -> dict[str, object]:
        return {**msgspec.structs.asdict(self.faults), "stats": dict(self.stats)}
