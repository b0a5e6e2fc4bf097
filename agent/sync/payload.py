"""Turn a ledger transaction into contract v1's `txn` payload."""

from __future__ import annotations

import datetime as dt
import uuid

from agent.ledger import Txn
from contract.payloads import JobInfo, TxnPayload


def txn_payload(txn: Txn, *, site: str, device: str) -> TxnPayload:
    """Built only from stored values, so a resend is the same message central may have seen."""
    job = txn.job
    info = None
    if txn.session_key is not None:  # a print job's key, or a copy session's key
        printed = job.get("printed")
        info = JobInfo(
            job_id=txn.session_key,
            name=str(job.get("name", ""))[:500],
            printer=str(job.get("printer", "")),
            pages=printed if printed is not None else job.get("impressions"),
            color=job.get("color"),
            duplex=job.get("duplex"),
            estimate=job.get("estimate"),
            review=bool(job.get("review", False)),
        )
    return TxnPayload(
        txn_id=uuid.UUID(txn.txn_id),
        site=site,
        device=device,
        type=txn.type,
        user=txn.user,
        amount=txn.amount,
        currency=txn.currency,
        occurred_at=dt.datetime.fromisoformat(txn.occurred_at).astimezone(dt.UTC),
        job=info,
        note=txn.note[:500],
    )
