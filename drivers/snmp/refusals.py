"""Which OIDs one printer refused alone, so later readings stop asking for them.

A printer that answers genErr (or noSuchName) for one OID fails the whole GET that asks for
it; the reader then asks again in halves to keep the other values. Doing that at every
reading cost about six round trips each time on the snmp-generr profile, and made settling
slow. So the reader remembers what a printer refused alone and leaves it out, reporting it
as the same explicit unknown with the same reason, and asks again now and then (see
RECHECK_S) since a printer can start answering after a firmware update or a wake-up.

Pure bookkeeping, no I/O: the reader decides when to send.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping

from drivers.snmp.decode import OID

RECHECK_S = 60.0
"""How long a remembered refusal stands before the OIDs are asked again. A minute: a printer
that starts answering without restarting (woken from deep sleep, a setting changed) is read
again within a minute, while the cost is one extra GET a minute, sent beside the reading's
own GET so no reading waits for it (at the 0.2 s fast cadence that is under 1 % more
requests; the halving it replaces cost several GETs at every reading). A restart, which a
firmware update implies, is seen at once through sysUpTime going back."""


class Refusals:
    """OID -> why the printer refused it, with when to ask again. One per printer."""

    def __init__(self, recheck_s: float = RECHECK_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.recheck_s = recheck_s
        self._clock = clock
        self._refused: dict[OID, str] = {}
        self._asked_at = 0.0
        self._uptime: int | None = None

    def __contains__(self, oid: OID) -> bool:
        return oid in self._refused

    def __len__(self) -> int:
        return len(self._refused)

    def reasons(self, oids: Iterable[OID]) -> dict[OID, str]:
        """The remembered reason of each of `oids` the printer refused."""
        return {oid: self._refused[oid] for oid in oids if oid in self._refused}

    def due(self) -> bool:
        """Whether the remembered OIDs should be asked again now."""
        return bool(self._refused) and self._clock() - self._asked_at >= self.recheck_s

    def asked(self) -> None:
        """The remembered OIDs were just asked again: the next time is RECHECK_S away."""
        self._asked_at = self._clock()

    def note(self, values: Mapping[OID, object], refused: Mapping[OID, str]) -> None:
        """Record one reading: OIDs answered are forgotten; OIDs refused alone are
        remembered, but only when the printer answered others in the same reading. A printer
        that refuses everything is in a passing state (busy, starting up), not unable to give
        particular values, and must be asked for all of them again next time."""
        for oid in values:
            self._refused.pop(oid, None)
        if values and refused:
            if not self._refused:
                self._asked_at = self._clock()
            self._refused |= refused

    def uptime(self, ticks: int | None) -> bool:
        """Note the printer's sysUpTime; whether it went back. Then the printer restarted
        (maybe with new firmware), and what it refused before is asked again at the next
        reading. A counter that wrapped (after 497 days) reads as a restart too: one extra
        GET."""
        if ticks is None:
            return False
        restarted = self._uptime is not None and ticks < self._uptime
        if restarted:
            self._asked_at = -math.inf
        self._uptime = ticks
        return restarted
