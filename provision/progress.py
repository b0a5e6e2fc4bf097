"""A progress bar on stderr for long work (copying gigabyte images). Quiet when stderr is
not a terminal, apart from one line at the end, so logs stay readable."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None,
                 width: int = 30) -> None:
        self.label, self.total, self.width = label, max(total, 1), width
        self.stream = stream or sys.stderr
        self.done = 0
        self._shown = -1
        self._tty = self.stream.isatty()

    def advance(self, amount: int) -> None:
        self.done = min(self.total, self.done + amount)
        percent = self.done * 100 // self.total
        if self._tty and percent != self._shown:
            self._shown = percent
            filled = self.width * self.done // self.total
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%")
            self.stream.flush()

    def finish(self) -> None:
        self.done = self.total
        self.advance(0)
        self.stream.write("\n" if self._tty else f"{self.label}: done\n")
        self.stream.flush()
