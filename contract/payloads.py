"""Payloads of MQTT contract v1 (v1.1's batched acks, v1.2's batched txns) as msgspec Structs.

Strict on purpose: unknown fields are refused, money is integer minor units (a float such as
1.5 or 1.0 is refused), `txn_id` is a UUID, and every time is an ISO 8601 string in UTC.
Agent and central both decode through these types, so they cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from contract.topics import LEVEL_PATTERN

MAX_MONEY = 10**12
Money = Annotated[int, msgspec.Meta(ge=-MAX_MONEY, le=MAX_MONEY,
                                    description="integer minor units (cents); never a float")]
UtcTime = Annotated[dt.datetime, msgspec.Meta(tz=True, description="ISO 8601 time in UTC")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
LevelId = Annotated[str, msgspec.Meta(pattern=f"^{LEVEL_PATTERN}$")]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217 code")]
TxnType = Literal["print", "copy", "refund", "adjustment"]
AckStatus = Literal["applied", "duplicate", "rejected"]
ErrorCode = Literal["bad_request", "wrong_code", "unknown_card", "not_found", "locked",
                    "card_taken", "wrong_pin", "internal"]
MAX_ROWS = 100
MAX_ACK_BATCH = 1000  # acks in one AckBatch message (central splits larger commits)
MAX_TXN_BATCH = 200  # txns in one TxnBatch message
MAX_DAYS = 90


def _require_utc(value: dt.datetime | None, field: str) -> None:
    if value is not None and value.utcoffset() != dt.timedelta(0):
        raise ValueError(f"{field} must be in UTC (end it with 'Z' or '+00:00')")


class _Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every payload: unknown fields are an error, defaults are left out on the wire."""


class JobInfo(_Strict):
    """What was printed or copied; the ledger keeps it as evidence for the portal and refunds."""

    job_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    name: Text = ""
    printer: Text = ""
    pages: Annotated[int, msgspec.Meta(ge=0)] | None = None
    sheets: Annotated[int, msgspec.Meta(ge=0)] | None = None
    color: bool | None = None
    duplex: bool | None = None
    estimate: Money | None = None
    review: bool = False


class TxnPayload(_Strict):
    """`txn`, agent → central, QoS 1: one ledger entry, applied exactly once by txn_id."""

    txn_id: uuid.UUID
    site: LevelId
    device: LevelId
    type: TxnType
    user: Name
    amount: Money
    currency: Currency
    occurred_at: UtcTime
    job: JobInfo | None = None
    note: Text = ""
    comment: Text = ""
    refund_of: uuid.UUID | None = None

    def __post_init__(self) -> None:
        _require_utc(self.occurred_at, "occurred_at")
        if self.type in ("print", "copy") and self.amount > 0:
            raise ValueError(f"a {self.type} charge must not raise the balance: amount is"
                             f" {self.amount}, expected 0 or less")
        if self.type == "refund" and self.amount < 0:
            raise ValueError(f"a refund must not lower the balance: amount is {self.amount},"
                             " expected 0 or more")


class TxnBatch(_Strict):
    """`txns` in contract v1.2, agent → central, QoS 1: several txns in one message.

    Sent only while a central instance's status says `txn_batch`. Each txn in it is checked,
    applied, acked or rejected on its own, exactly as if it had come alone on `txn`; the
    batch only saves the packets (a PUBLISH and a PUBACK per txn) that bounded a backlog's
    drain.
    """

    txns: Annotated[list[TxnPayload], msgspec.Meta(min_length=1, max_length=MAX_TXN_BATCH)]


class AckPayload(_Strict):
    """`ack`, central → agent, QoS 1, sent only after the ledger commit."""

    txn_id: uuid.UUID
    status: AckStatus
    balance: Money
    reason: Text | None = None


class AckBatch(_Strict):
    """`ack` in contract v1.1, central → agent, QoS 1: the acks of one commit for one device.

    Sent only to a device whose `status` says `ack_batch`; every other device gets one
    AckPayload per txn. One message instead of one per txn is what lets central keep up.
    """

    acks: Annotated[list[AckPayload], msgspec.Meta(min_length=1, max_length=MAX_ACK_BATCH)]


class StatusPayload(_Strict):
    """`status`, retained and also the last will (with online=false).

    `ack_batch` (contract v1.1): the device reads AckBatch on its `ack` topic. Absent means
    a v1 device, which gets one AckPayload per txn.
    `txn_batch` (contract v1.2, only in a central instance's status): this instance reads
    TxnBatch on `txns`. A device batches its txns only while an online instance says so.
    """

    online: bool
    version: Annotated[str, msgspec.Meta(max_length=64)]
    since: UtcTime
    ack_batch: bool = False
    txn_batch: bool = False

    def __post_init__(self) -> None:
        _require_utc(self.since, "since")


class ResendRequest(_Strict):
    """`resend` (contract v1.2), central → every device, QoS 1, retained on `RESEND_TOPIC`:
    send again every txn that occurred at or after `since`, acked or not.

    After the ledger is restored to an earlier point, central lacks txns it had already
    acked; the devices still hold them. Central applies those it lacks and answers
    "duplicate" for the rest. A device acts on each `request_id` once, so the retained
    request reaches a device that was offline without repeating for the others.
    """

    request_id: uuid.UUID
    since: UtcTime

    def __post_init__(self) -> None:
        _require_utc(self.since, "since")


class PrinterPayload(_Strict):
    """`printer`, retained, QoS 0: the device's state for dashboards."""

    status: Annotated[str, msgspec.Meta(max_length=64)]
    alerts: list[Text] = []
    counters: dict[str, Annotated[int, msgspec.Meta(ge=0)]] = {}
    supplies: dict[str, int] = {}
    at: UtcTime | None = None

    def __post_init__(self) -> None:
        _require_utc(self.at, "at")


class AuthParams(_Strict):
    """Exactly one of `code` (as typed) or `card` (already normalised by the agent); `pin`
    only with `card`, on terminals that ask for card + PIN."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    card: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    pin: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None

    def __post_init__(self) -> None:
        if (self.code is None) == (self.card is None):
            raise ValueError("give exactly one of 'code' or 'card'")
        if self.pin is not None and self.card is None:
            raise ValueError("a 'pin' goes with a 'card'")


class AccountParams(_Strict):
    """Whose statement, how many rows (≤ 100) and how far back (≤ 90 days)."""

    user: Name
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_ROWS)] = MAX_ROWS
    days: Annotated[int, msgspec.Meta(ge=1, le=MAX_DAYS)] = MAX_DAYS


class LinkCardParams(_Strict):
    """Card self-association: the user's access code proves who they are."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    card: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class AuthRequest(_Strict, tag_field="method", tag="auth"):
    """`rpc/req` with method "auth": who is this code or card?"""

    params: AuthParams


class AccountRequest(_Strict, tag_field="method", tag="account"):
    """`rpc/req` with method "account": balance and recent transactions."""

    params: AccountParams


class LinkCardRequest(_Strict, tag_field="method", tag="link_card"):
    """`rpc/req` with method "link_card": link an unknown card to the code's account."""

    params: LinkCardParams


RpcRequest = AuthRequest | AccountRequest | LinkCardRequest


class AccountSummary(_Strict):
    """What a terminal needs to authorise: `available` is None when the account is unrestricted."""

    username: Name
    display_name: Text
    balance: Money
    restricted: bool
    credit_limit: Money
    available: Money | None
    groups: list[Name] = []


class TransactionRow(_Strict):
    """One row of the portal's transaction table: the seven columns users see."""

    date: UtcTime
    transacted_by: Text
    type: TxnType
    system_note: Text
    comment: Text
    amount: Money
    balance: Money


class AccountStatement(_Strict):
    """Result of "account": newest first, at most 100 rows from the last 90 days."""

    account: AccountSummary
    transactions: Annotated[list[TransactionRow], msgspec.Meta(max_length=MAX_ROWS)]


class RpcError(_Strict):
    """A refusal in plain words; `retry_after` (seconds) is set when the code or card is locked."""

    code: ErrorCode
    message: Text
    retry_after: Annotated[int, msgspec.Meta(ge=0)] | None = None


def _one_of(result: object, error: object) -> None:
    if (result is None) == (error is None):
        raise ValueError("a response carries exactly one of 'result' or 'error'")


class AuthResponse(_Strict, tag_field="method", tag="auth"):
    """`rpc/res` for "auth"."""

    result: AccountSummary | None = None
    error: RpcError | None = None

    def __post_init__(self) -> None:
        _one_of(self.result, self.error)


class AccountResponse(_Strict, tag_field="method", tag="account"):
    """`rpc/res` for "account"."""

    result: AccountStatement | None = None
    error: RpcError | None = None

    def __post_init__(self) -> None:
        _one_of(self.result, self.error)


class LinkCardResponse(_Strict, tag_field="method", tag="link_card"):
    """`rpc/res` for "link_card": the account the card now belongs to, or why not."""

    result: AccountSummary | None = None
    error: RpcError | None = None

    def __post_init__(self) -> None:
        _one_of(self.result, self.error)


class InvalidResponse(_Strict, tag_field="method", tag="invalid"):
    """`rpc/res` when the request could not be read at all, so its method is unknown."""

    error: RpcError


RpcResponse = AuthResponse | AccountResponse | LinkCardResponse | InvalidResponse
