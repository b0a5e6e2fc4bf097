"""Which central instances are online and take batched txns (contract v1.2).

Every instance announces itself, retained and with a last will, on
`pagetally/v1/_central/{instance}/status`. The agent batches its txns only while at least one
online instance says `txn_batch`: an instance that predates v1.2 never subscribed to `txns`,
so a batch sent while none of the new ones is online would reach nobody, and its txns would
wait for the outbox's resend.
"""

from __future__ import annotations

import logging

from contract import CENTRAL_SITE, ContractError, TopicError, decode_status, parse_topic

log = logging.getLogger("pagetally.sync")


class CentralInstances:
    def __init__(self) -> None:
        self._batching: set[str] = set()

    @property
    def take_batches(self) -> bool:
        return bool(self._batching)

    def forget(self) -> None:
        """A new connection: the retained statuses come again with the subscription."""
        self._batching.clear()

    def note(self, where: str, payload: bytes) -> None:
        """Read one instance's status; an empty (cleared) or unreadable one means no batches."""
        try:
            at = parse_topic(where)
        except TopicError:
            return
        if at.site != CENTRAL_SITE or at.kind != "status":
            return
        batching = False
        if payload:
            try:
                status = decode_status(payload)
                batching = status.online and status.txn_batch
            except ContractError as exc:
                log.warning("central instance %s sent a status we cannot read; sending it"
                            " single txns: %s", at.device, exc)
        if batching:
            self._batching.add(at.device)
        else:
            self._batching.discard(at.device)
