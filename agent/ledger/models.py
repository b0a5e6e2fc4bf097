"""Typed rows of the local ledger and the MQTT `txn` payload built from them."""

from __future__ import annotations

import json
from typing import Any, Literal

import msgspec

Source = Literal["device", "cups"]
SessionKind = Literal["print", "copy"]
EvidenceSource = Literal["ipp-job", "board", "counters"]
"""What counts a session's pages: the device's job (IPP) with its counters, the copier
interface board's pulses, or the device's counters alone."""
JobState = Literal["snapshotting", "released", "following", "settled", "review", "abandoned"]
Step = Literal["snapshot", "release", "poll", "final"]
Kind = Literal["charge", "refund", "extra", "copy", "adjustment"]
TxnType = Literal["print", "copy", "refund", "adjustment"]
Outbox = Literal["pending", "acked", "rejected"]
AckStatus = Literal["applied", "duplicate", "rejected"]

UNFINISHED: tuple[JobState, ...] = ("snapshotting", "released", "following")
SETTLED: tuple[JobState, ...] = ("settled", "review")


class NewJob(msgspec.Struct, frozen=True, kw_only=True):
    """A held job the user asked to release, as the hold queue and the estimator see it."""

    printer: str
    source: Source
    queue_job_id: int
    user: str
    name: str
    impressions: int
    color: bool
    duplex: bool
    media: str | None
    estimate: int

    def __post_init__(self) -> None:
        if self.impressions < 0:
            raise ValueError(f"impressions cannot be negative, got {self.impressions}")
        if self.estimate < 0:
            raise ValueError(f"an estimate cannot be negative, got {self.estimate}")
        if not self.user:
            raise ValueError("a job needs a user")


class JobRow(NewJob, frozen=True, kw_only=True):
    """One row of `jobs`: the release asked for, from snapshot to settlement."""

    job_key: str
    state: JobState
    printed: int | None
    reason: str | None
    review: bool
    review_note: str | None
    created_at: str
    updated_at: str
    settled_at: str | None
    device_job_id: int | None = None
    """The device job this release printed as, once matched (for CUPS, a new job)."""
    device_job_created: str | None = None
    """That job's creation time on the device's clock: printers renumber at power-up."""
    match_doubt: str | None = None
    """Why the match is not certain, if it is not: the job then goes to review."""

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED


class Txn(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `txns`: a signed money movement and its place in the outbox."""

    txn_id: str
    seq: int
    session_key: str | None
    """The metering session (print job or copy session) it belongs to; None for an
    adjustment."""
    kind: Kind
    type: TxnType
    user: str
    amount: int
    currency: str
    reason: str | None
    note: str
    occurred_at: str
    job: dict[str, Any]
    outbox: Outbox
    ack_status: str | None
    ack_balance: int | None
    acked_at: str | None
    attempts: int

    def to_contract(self) -> dict[str, Any]:
        """The MQTT `txn` payload (contract version 1). Stable: built from stored values only,
        so a re-publish after a crash sends the same bytes central already may have applied."""
        return {
            "txn_id": self.txn_id,
            "type": self.type,
            "user": self.user,
            "amount": self.amount,
            "currency": self.currency,
            "occurred_at": self.occurred_at,
            "job": self.job,
            "note": self.note,
        }


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded observation of a job: counters, IPP attributes, the settling verdict."""

    id: int
    job_key: str
    step: Step
    data: dict[str, Any]
    at: str


def job_from_row(row: dict[str, Any]) -> JobRow:
    return msgspec.convert(row, JobRow, strict=False)


def txn_from_row(row: dict[str, Any]) -> Txn:
    fields = dict(row)
    fields["job"] = json.loads(fields.pop("job_json"))
    return msgspec.convert(fields, Txn)


def evidence_from_row(row: dict[str, Any]) -> Evidence:
    fields = dict(row)
    fields["data"] = json.loads(fields["data"])
    return msgspec.convert(fields, Evidence)


class CopyRow(msgspec.Struct, frozen=True, kw_only=True):
    """One copy session (`copy_sessions` with its `sessions` row)."""

    session_key: str
    user: str
    printer: str
    state: Literal["open", "settled", "review"]
    board_boot: int
    start: dict[str, Any]
    """The board's and the device's counters before the copier was enabled."""
    evidence: EvidenceSource = "board"
    """What counts its pages: the board, or the device's counters alone (no board)."""
    result: dict[str, Any] | None
    started_at: str
    settled_at: str | None


def copy_from_row(row: dict[str, Any]) -> CopyRow:
    fields = dict(row)
    fields["start"] = msgspec.json.decode(fields.pop("start_json"))
    result = fields.pop("result_json")
    fields["result"] = None if result is None else msgspec.json.decode(result)
    return msgspec.convert(fields, CopyRow)
