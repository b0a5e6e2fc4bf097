"""One metering session's life, whatever its kind: opened → followed → settled once.

A print job and a copy session live the same life; only their evidence differs, and it
sits behind `SessionEvidence`: the print job's (`agent/metering/print_job.py`: release the
held job, follow the device job, decide from the counters and IPP) and the copy session's
(`agent/copying/life.py`, over the copier board or the device's counters). Each phase is
in the ledger before the next begins, so a session an earlier run left open goes on at
the next start from where the ledger says it got to, and the ledger settles it once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from agent.api.methods import Notification, Notify

log = logging.getLogger("pagetally.session")

H = TypeVar("H")
"""One session, as its evidence follows it."""
F = TypeVar("F")
"""What following the session found."""
R = TypeVar("R")
"""The settled session's result."""
R_co = TypeVar("R_co", covariant=True)
P = TypeVar("P")
"""What the panel is shown while the session runs."""
P_co = TypeVar("P_co", covariant=True)


class SessionEvidence(Protocol[H, F, R_co, P_co]):
    """What differs between kinds of session: how one is let go, followed and judged."""

    def left_open(self) -> list[str]:
        """Sessions an earlier run opened and did not settle, oldest first."""

    async def opened(self, key: str) -> H | None:
        """The session, in the ledger with its snapshot and the device let go (the job
        released, the copier on), from wherever the ledger says it got to; None when it
        ended before that (cancelled, never released: recorded, with nothing to settle)."""

    async def follow(self, session: H, shown: Callable[[P_co], None]) -> F:
        """Until the evidence says the session is over; `shown` with each change the panel
        sees."""

    async def settle(self, session: H, followed: F) -> R_co:
        """Judge, price and record the session with its one charge, and say so."""


class Budget(Protocol):
    def spend(self, exc: Exception, now: float) -> bool:
        """Count one failure at `now` (monotonic seconds); True once it is time to give up."""


@dataclass(frozen=True)
class Retry(Generic[R]):
    """Bounded retries, then review: a session the device cannot answer about (it forgot
    the job, it refuses it, it is off) must not block every later one."""

    faults: tuple[type[Exception], ...]
    """Failures asking again may cure; any other error ends the life."""
    budget: Callable[[], Budget]
    """A fresh budget for each session."""
    interval: float
    give_up: Callable[[str, Exception], Awaitable[R]]
    """Out of budget: settle the session from what is known, for review."""


class SessionLife(Generic[H, F, R, P]):
    def __init__(self, evidence: SessionEvidence[H, F, R, P], *, notify: Notify,
                 progress: Notification[P], retry: Retry[R] | None = None) -> None:
        self.evidence = evidence
        self.notify = notify
        self.progress = progress
        self.retry = retry

    async def recover(self) -> None:
        """Settle what an earlier run left open, oldest first, each from where the ledger
        says it got to: the evidence is cumulative, so it settles as it would have then."""
        for key in self.evidence.left_open():
            await self.live(key)

    async def live(self, key: str) -> R | None:
        """The session's life from where the ledger says it is; None if it ended unopened."""
        if self.retry is None:
            return await self._once(key)
        retry, budget = self.retry, self.retry.budget()
        while True:
            try:
                return await self._once(key)
            except retry.faults as exc:
                if budget.spend(exc, time.monotonic()):
                    return await retry.give_up(key, exc)
                log.warning("session %s: %s; asking the device again", key, exc)
                await asyncio.sleep(retry.interval)

    async def _once(self, key: str) -> R | None:
        session = await self.evidence.opened(key)
        return None if session is None else await self.finish(session)

    async def finish(self, session: H) -> R:
        """Follow an opened session to its end, showing each change, and settle it once.
        Called directly where opening it is the caller's (a copy session starts on the
        panel's request); the retries are `live`'s."""

        def shown(view: P) -> None:
            self.notify(self.progress, view)

        return await self.evidence.settle(session, await self.evidence.follow(session, shown))
