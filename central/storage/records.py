"""What central keeps beside the transactions: postings, groups, quotas, runs, fee intents.

Plain dataclasses, shared by every storage backend and by the pure logic that plans changes
(`central.quotas`, `central.members.sync`, `central.feerun`), so that logic never touches SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

# Where a balance change came from. A device's txn is "device"; the rest are made at central
# and never pose as a device (their site and device are empty in the ledger).
Origin = Literal["device", "admin", "schedule", "fee_run", "import", "refund"]
ORIGINS: tuple[Origin, ...] = ("device", "admin", "schedule", "fee_run", "import", "refund")
PostingType = Literal["adjustment", "refund"]
PostingMode = Literal["add", "reset"]
Period = Literal["daily", "weekly", "monthly"]
RunState = Literal["running", "done"]
FeeState = Literal["intent", "posted"]


@dataclass(frozen=True, slots=True)
class Posting:
    """A balance change made at central, applied once by `posting_id` like a device txn.

    `mode="reset"` sets the balance to `amount` (the change is worked out inside the database
    transaction, from the balance at that instant); `cap` limits an "add" so the balance does
    not grow past it. A change that works out to zero is not written.
    """

    posting_id: str
    username: str
    amount: int
    origin: Origin
    transacted_by: str
    note: str
    comment: str = ""
    type: PostingType = "adjustment"
    mode: PostingMode = "add"
    cap: int | None = None
    occurred_at: dt.datetime | None = None
    job_json: str | None = None
    refund_of: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A group of users; its defaults apply to users created in it (sync, import, user add)."""

    name: str
    restricted: bool = True
    credit_limit: int = 0
    members: int = 0


@dataclass(frozen=True, slots=True)
class Quota:
    """A scheduled top-up of every member of a group.

    `at` is a wall-clock "HH:MM" in the site's time zone; `weekday` (0 = Monday) is used by
    weekly quotas, `monthday` (1-28, or 31 for "the last day") by monthly ones.
    """

    name: str
    group: str
    period: Period
    amount: int
    mode: PostingMode = "add"
    at: str = "00:00"
    weekday: int = 0
    monthday: int = 1
    cap: int | None = None
    comment: str = ""
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One scheduled run, keyed by what it is and which period it is for."""

    key: str
    kind: str
    due_at: dt.datetime
    state: RunState
    owner: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    report: str = ""


@dataclass(frozen=True, slots=True)
class FeeIntent:
    """A fee the fee run means to create; written BEFORE the membership system is asked."""

    reference: str
    run_key: str
    username: str
    member_id: str
    amount: int
    state: FeeState
    fee_id: str | None = None


@dataclass(frozen=True, slots=True)
class MemberLink:
    """Which member of which source an account stands for."""

    username: str
    source: str
    member_id: str


@dataclass
class AccountSync:
    """One membership sync's changes to accounts, applied in ONE database transaction."""

    create: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(username, display name, groups) to create (or bring back if removed)."""
    regroup: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(username, display name, groups) that exist: name and groups are replaced."""
    remove: list[str] = field(default_factory=list)
    """Usernames to remove (kept for their history, but no longer able to sign in)."""
    links: list[MemberLink] = field(default_factory=list)
    unlink: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    """Groups to create if missing (companies)."""
