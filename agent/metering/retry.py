"""How long one job may keep failing at the printer before it stops blocking the others.

Jobs are metered one at a time per printer, so a job the printer cannot answer about
(it forgot the job in a power cycle, it refuses Release-Job, it is off) would hold every
later release for ever. A refusal is an answer, and asking again rarely changes it; an
unreachable printer may come back, so it gets longer.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.ipp.client import IppRefused


@dataclass
class RetryBudget:
    refused_tries: int
    """Answers refusing the job (not-found, not-possible) before giving up."""
    unreachable_s: float
    """Seconds of failing to reach the printer before giving up."""
    refused: int = 0
    failing_since: float | None = None

    def spend(self, exc: Exception, now: float) -> bool:
        """Count one failure at `now` (monotonic seconds); True once the job should give up."""
        if self.failing_since is None:
            self.failing_since = now
        if isinstance(exc, IppRefused):
            self.refused += 1
        return self.refused >= self.refused_tries or now - self.failing_since >= self.unreachable_s
