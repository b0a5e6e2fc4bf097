"""Which devices read batched acks (contract v1.1), and how one commit's acks are grouped.

A device says so in its retained `status` (`ack_batch: true`). Central learns it from a
plain, not shared, subscription to every device's status, so each central instance knows
every device. Until it has seen that status, central answers per txn (v1): every agent
reads those, so a txn that overtakes its device's status is still acked, only not batched.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from contract import (
    CENTRAL_SITE,
    MAX_ACK_BATCH,
    AckBatch,
    AckPayload,
    ContractError,
    TopicError,
    decode_status,
    encode,
    parse_topic,
    topic,
)

log = logging.getLogger("pagetally.central")


class DeviceFeatures:
    """The devices whose last status announced batched acks; fed from paho's thread."""

    def __init__(self) -> None:
        self._batching: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def note_status(self, where: str, payload: bytes) -> None:
        """Read one `status` message; an empty (cleared) or bad one means v1 acks."""
        try:
            at = parse_topic(where)
        except TopicError:
            return
        if at.site == CENTRAL_SITE:
            return
        batching = False
        if payload:
            try:
                batching = decode_status(payload).ack_batch
            except ContractError as exc:
                log.warning("device %s/%s sent a status we cannot read, so it gets one ack"
                            " per txn: %s", at.site, at.device, exc)
        with self._lock:
            if batching:
                self._batching.add((at.site, at.device))
            else:
                self._batching.discard((at.site, at.device))

    def batches(self, site: str, device: str) -> bool:
        with self._lock:
            return (site, device) in self._batching


@dataclass(frozen=True)
class AckMessage:
    """One `ack` publish and the positions (in the commit's list) of the txns it answers."""

    topic: str
    payload: bytes
    answers: tuple[int, ...]


def group_acks(acks: list[tuple[str, str, AckPayload]],
               batching: DeviceFeatures) -> list[AckMessage]:
    """The messages for one commit's acks, given as (site, device, ack) in commit order:
    one AckBatch per batching device (split at MAX_ACK_BATCH), one AckPayload per txn for
    every other device."""
    out: list[AckMessage] = []
    grouped: dict[tuple[str, str], list[int]] = {}
    for i, (site, device, ack) in enumerate(acks):
        if batching.batches(site, device):
            grouped.setdefault((site, device), []).append(i)
        else:
            out.append(AckMessage(topic(site, device, "ack"), encode(ack), (i,)))
    for (site, device), positions in grouped.items():
        where = topic(site, device, "ack")
        for start in range(0, len(positions), MAX_ACK_BATCH):
            part = tuple(positions[start:start + MAX_ACK_BATCH])
            out.append(AckMessage(where, encode(AckBatch([acks[i][2] for i in part])), part))
    return out
