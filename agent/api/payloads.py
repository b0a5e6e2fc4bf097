"""What the local API's methods answer and what the agent pushes, as msgspec Structs.

Handlers build these instead of loose dicts, so the panel, `agent ctl` and docs/api.md see one
shape (tests/unit/test_api_docs.py checks the doc against them; tests/e2e/test_api_docs.py
decodes a running agent's answers with them). Every field is always on the wire, `null`
included, as the panel reads them. Money is integer minor units, with a `*_text` to display.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Money = Annotated[int, msgspec.Meta(description="integer minor units (cents)")]
Count = Annotated[int, msgspec.Meta(ge=0)]
IsoTime = Annotated[str, msgspec.Meta(description="ISO 8601 time")]
LoginMethod = Literal["code", "card", "card+pin"]
JobState = Literal["queued", "releasing", "printing", "stopped", "completed", "canceled",
                   "aborted", "settled", "review", "abandoned"]
PrinterState = Literal["idle", "printing", "stopped", "asleep", "unknown"]


class Payload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every answer and notification: decoding one with a field more or less fails."""


class Ok(Payload):
    """`session.logout`, `jobs.cancel`, `subscribe`: done."""

    ok: bool = True


class Session(Payload):
    """Who is logged in; also the `session` notification on login."""

    user: str
    display_name: str
    balance: Money
    balance_text: str
    offline: bool
    method: LoginMethod
    expires_in: Count


class LoggedOut(Payload, kw_only=True):
    """The `session` notification when a session ends."""

    user: None = None
    reason: Literal["timeout", "logout", "replaced"]
    previous: str


class Touched(Payload):
    """`session.touch`: the auto-logout timer restarted at this many seconds."""

    expires_in: Count


class LoginRefused(Payload):
    """A card swipe that logged nobody in, in the words of the matching ApiError."""

    kind: str
    message: str


class Countdown(Payload):
    """The `timeout` notification, each second of the last ten before auto-logout."""

    seconds_left: Count


class HeldJob(Payload):
    id: int
    name: str
    submitted_at: IsoTime | None
    pages: Count | None
    impressions: Count | None
    copies: Count
    color: bool
    duplex: bool
    media: str | None
    estimate: Money
    estimate_text: str
    estimate_kind: Literal["counted", "deposit"]


class Release(Payload):
    id: int
    job_key: str
    estimate: Money
    estimate_text: str


class Deleted(Payload):
    """`jobs.delete`: the queue ids cancelled."""

    deleted: list[int]


class Expired(Payload):
    id: int
    name: str
    expired_at: IsoTime | None
    reason_text: str
    waited_s: float


class JobStatus(Payload):
    job_key: str
    id: int
    name: str
    user: str
    state: JobState
    printed: Count
    total: Count | None
    estimate: Money
    estimate_text: str
    charged: Money
    charged_text: str
    refunded: Money
    refunded_text: str
    reason: str | None
    reason_text: str | None
    review: bool
    review_note: str | None
    stopped_for: str | None


class Row(Payload):
    date: IsoTime
    transacted_by: str
    type: str
    system_note: str
    comment: str
    amount: Money
    amount_text: str
    balance: Money
    balance_text: str


class Account(Payload):
    user: str
    balance: Money
    balance_text: str
    transactions: list[Row]


class Alert(Payload):
    kind: str
    text: str
    help: str


class Counters(Payload):
    snmp: int | None
    ipp: int | None


class PrinterStatus(Payload):
    """The printer as its poller last read it, and what the agent knows besides."""

    name: str
    state: PrinterState
    reasons: list[str]
    alerts: list[Alert]
    counters: Counters
    problems: list[str]
    online: bool
    copier: bool
    copy_enforced: bool


class CopyProgress(Payload, kw_only=True):
    session_key: str
    state: Literal["copying"] = "copying"
    user: str
    pages: Count
    pages_by_kind: dict[str, Count]
    cost: Money
    cost_text: str
    limit: Money
    enforced: bool


class CopyResult(Payload):
    session_key: str
    state: Literal["settled", "review"]
    user: str
    reason: str
    pages: Count
    pages_by_kind: dict[str, Count]
    enforced: bool
    board_pages: Count | None
    counter_pages: Count | None
    copy_counter_pages: Count | None
    prints_in_window: Count | None
    source: str
    review: bool
    note: str
    cost: Money
    cost_text: str
    charged: Money
    charged_text: str
