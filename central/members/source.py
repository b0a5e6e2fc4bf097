"""What central needs from a membership system, whichever it is.

A source lists companies and members, and books fees. Fees carry a reference chosen by the
fee run before it asks, so a fee whose answer was lost can be found again (`find_fee`)
instead of being booked twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


class MembershipError(Exception):
    """The membership system cannot be used right now, in words an operator can act on."""


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    email: str
    company: str | None = None
    """The company's id, or None for an individual member."""
    status: str = "active"
    location: str | None = None
    plans: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeeRequest:
    member_id: str
    amount: int
    """Minor units of the ledger's currency, > 0."""
    currency: str
    reference: str
    day: dt.date
    name: str = "Printing fee"
    company_id: str | None = None


@dataclass
class Directory:
    """One full read of a source."""

    companies: list[Company] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)


class MembershipSource(Protocol):
    key: str
    """Stable name of this source in the ledger ("officernd:<org>", "file")."""

    def directory(self) -> Directory: ...

    def create_fee(self, fee: FeeRequest) -> str:
        """Book the fee; returns its id in the membership system."""
        ...

    def find_fee(self, member_id: str, reference: str) -> str | None:
        """The id of a fee booked earlier with this reference, or None."""
        ...
