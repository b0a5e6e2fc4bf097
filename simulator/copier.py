"""The walk-up copier behind the board: it copies only while the board's relay enables it
(or always, with no board wired in: `copier_without_board`).

Its foreign interface sends count pulses per page, as vendors' key-counter
interfaces do: one pulse per page on the mono or the colour line, two for a
large page (A3 counts double), each `pulse_ms` long with `gap_ms` between (real
interfaces: 50-100 ms, at most 10 a second). Every page also goes through the
engine's copy path, so the SNMP and IPP counters advance as for any copy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from simulator.board import SimBoard
from simulator.engine import Engine

MONO_PIN = 0
COLOUR_PIN = 1
LARGE_SIZES = frozenset({"A3", "tabloid", "ledger", "B4"})


@dataclass
class CopyRun:
    asked: int
    copied: int = 0
    refused: int = 0  # pages not made: copying was not enabled ("insert key counter")


class SimCopier:
    def __init__(self, engine: Engine, board: SimBoard, pulse_ms: int = 60,
                 gap_ms: int = 60) -> None:
        self.engine = engine
        self.board = board
        self.wired = not engine.config.copier_without_board
        """False: no board between copier and terminal; it always copies, sends no pulses."""
        self.pulse_ms = pulse_ms
        self.gap_ms = gap_ms
        self.runs: list[CopyRun] = []

    @staticmethod
    def wiring(color: bool, size: str) -> tuple[int, int]:
        """(input pin, pulses per page) for a kind of page."""
        return (COLOUR_PIN if color else MONO_PIN), (2 if size in LARGE_SIZES else 1)

    async def copy(self, pages: int, color: bool = False, size: str = "A4") -> CopyRun:
        """Copy up to `pages`; the copier stops when the board takes the enable away."""
        run = CopyRun(asked=pages)
        self.runs.append(run)
        pin, pulses = self.wiring(color, size)
        for _ in range(pages):
            if self.wired and not self.board.relay_on:
                break
            self.engine.make_copy(1, color=color)
            for _ in range(pulses):
                self.board.set_pin(pin, 1 if self.wired else 0)
                await asyncio.sleep(self.pulse_ms / 1000)
                self.board.set_pin(pin, 0)
                await asyncio.sleep(self.gap_ms / 1000)
            run.copied += 1
        run.refused = pages - run.copied
        return run
