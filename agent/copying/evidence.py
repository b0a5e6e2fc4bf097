"""What a copy session's life asks of its source of evidence: the board, or the counters.

`life.py` runs one life (start, follow, settle once, settle after a crash) for every copy
session; the ways pages are counted differ, and only those sit behind this protocol, so a
rule of the life (idle, credit, stop reasons, one charge) is written once for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from agent.copying.session import CopyDecision, PrintsInWindow
from agent.copying.settling import EvidenceCounts
from agent.ledger.models import CopyRow, EvidenceSource
from agent.metering.probe import Reading

Final = Sequence[int] | None
"""The evidence's own cumulative counts once copying is off (the board's channel pages);
None when it has none, or they cannot be compared with the start."""


@dataclass(frozen=True)
class Seen:
    """One look at the evidence while the session runs."""

    pages: dict[str, int] | None = None
    """Pages by kind so far; None when this look tells nothing new."""
    ended: str | None = None
    """Why the copier stopped by itself (the board's relay went off), if it did."""


@dataclass(frozen=True)
class Judged:
    """The evidence's verdict at the settle, before the life prices and records it."""

    decision: CopyDecision
    by_kind: Mapping[str, int]
    counts: EvidenceCounts
    stored: dict[str, Any] | None = None
    """Only for the ledger's stored result (the raw counters at the end)."""


class Tracker(Protocol):
    """The evidence of one session, from its ledger row on."""

    key: str

    async def switch_on(self, limit: int) -> None:
        """Let the copier copy (raises CopyUnavailable: the session then settles at once)."""

    def following(self) -> AbstractContextManager[None]:
        """Held while the session is followed (the poller reads fast meanwhile)."""

    async def next(self) -> Seen:
        """The next look: waits for news, a wake() or a short while, whichever is first."""

    def wake(self) -> None:
        """Stop or logout: next() returns soon."""

    async def final(self, row: CopyRow) -> Final:
        """The evidence's counts once copying is off and the last page is out."""


class CopyEvidence(Protocol):
    """A source of evidence for copy sessions on one device."""

    source: EvidenceSource
    enforced: bool
    """The evidence switches the copier and enforces the credit limit itself."""
    unavailable: str
    """Why no session can start when `available` is false."""
    not_ready: str
    """Why a session cannot start yet while sessions of an earlier run settle."""
    faults: tuple[type[Exception], ...]
    """Errors a stop at shutdown may end in: shutdown goes on past them."""

    @property
    def available(self) -> bool:
        """Copy sessions can run here."""

    async def connect(self) -> None:
        """Ready for the sessions an earlier run left open to be settled."""

    async def close(self) -> None:
        """Let go of what connect() opened."""

    async def open(self, user: str, limit: int) -> Tracker:
        """Write the session and the counts at its start to the ledger (CopyUnavailable)."""

    async def final(self, row: CopyRow) -> Final:
        """The counts at the end of a session an earlier run left open."""

    def judge(self, row: CopyRow, final: Final, after: Reading,
              prints: PrintsInWindow) -> Judged:
        """The pages to charge, from the start in `row`, `final`, and the device at rest."""

    def job_settled(self) -> None:
        """Metering settled a print job: live pages may change."""
