"""What central's DB worker receives, and how it reads it: txns alone or in batches.

Pure: a message in, one decoded item per txn out, each with its topic's site and device and,
when it cannot be applied, the reason in plain words. A batch (contract v1.2) is split into
its txns still encoded, so one bad entry is rejected alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from central.storage.base import ApplyResult
from contract import (
    ContractError,
    Topic,
    TopicError,
    TxnPayload,
    decode_txn,
    parse_topic,
    split_txn_batch,
)

InboundKind = Literal["txn", "txns", "rpc"]


@dataclass
class Inbound:
    """One message handed from the network thread to the DB worker."""

    kind: InboundKind
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    response_topic: str | None = None
    correlation: bytes | None = None

    @property
    def weight(self) -> int:
        """About how many txns the message carries, to size a commit. A batch is counted by
        its `"txn_id"` keys, a scan much cheaper than decoding it twice; the DB worker
        decodes it properly."""
        return max(1, self.payload.count(b'"txn_id"')) if self.kind == "txns" else 1


@dataclass
class Decoded:
    """One txn of an inbound message (a `txns` message carries several)."""

    message: Inbound
    payload: bytes
    txn: TxnPayload | None = None
    txn_id: str | None = None
    reason: str | None = None
    site: str = "?"
    device: str = "?"
    result: ApplyResult | None = field(default=None)


def _txn_id_of(payload: bytes) -> str | None:
    """The txn_id of a payload that failed validation, if it has a usable one, for the ack."""
    try:
        data = msgspec.json.decode(payload)
        return str(uuid.UUID(data["txn_id"])) if isinstance(data, dict) else None
    except (msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None


def decode_message(message: Inbound) -> list[Decoded]:
    """The txns of one message: one for `txn`, each of a batch for `txns`. A message whose
    topic or batch cannot be read is one rejected item with no txn to answer."""
    try:
        where = parse_topic(message.topic)
    except TopicError as exc:
        return [Decoded(message, message.payload, reason=str(exc),
                        txn_id=_txn_id_of(message.payload))]
    if message.kind != "txns":
        return [_decode(message, where, message.payload)]
    try:
        parts = split_txn_batch(message.payload)
    except ContractError as exc:
        return [Decoded(message, message.payload, reason=str(exc), site=where.site,
                        device=where.device)]
    return [_decode(message, where, part) for part in parts]


def _decode(message: Inbound, where: Topic, payload: bytes) -> Decoded:
    item = Decoded(message, payload, site=where.site, device=where.device)
    try:
        txn = decode_txn(payload)
    except ContractError as exc:
        item.reason, item.txn_id = str(exc), _txn_id_of(payload)
        return item
    item.txn_id = str(txn.txn_id)
    if (txn.site, txn.device) != (where.site, where.device):
        item.reason = (f"the payload says site/device {txn.site}/{txn.device} but it was"
                       f" published under {where.site}/{where.device}")
    else:
        item.txn = txn
    return item
