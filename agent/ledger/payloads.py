"""What a transaction says about its job: the `job` object of the MQTT payload and the note.

Built once when the txn is written and stored with it, so a re-publish is byte-identical.
"""

from __future__ import annotations

from typing import Any

from agent.ledger.models import JobRow, Kind
from agent.ledger.reasons import job_reason_text


def job_detail(job: JobRow, *, kind: Kind) -> dict[str, Any]:
    """The `job` object of a print, refund or extra txn."""
    detail: dict[str, Any] = {
        "kind": kind,
        "job_key": job.job_key,
        "printer": job.printer,
        "source": job.source,
        "queue_job_id": job.queue_job_id,
        "name": job.name,
        "impressions": job.impressions,
        "color": job.color,
        "duplex": job.duplex,
        "media": job.media,
        "estimate": job.estimate,
    }
    if kind != "charge":
        detail.update(printed=job.printed, reason=job.reason, review=job.review)
    return detail


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"


def charge_note(job: JobRow) -> str:
    return f"Print: {job.name} ({_pages(job.impressions)}, estimate)"


def settle_note(job: JobRow, kind: Kind) -> str:
    """E.g. 'Refund: Paper jam. Printed 2 of 10 pages.' (the caller may pass a richer note)"""
    printed = job.printed or 0
    counted = f"Printed {printed} of {_pages(job.impressions)}."
    if kind == "extra":
        return f"Extra charge: {job.name}. {counted}"
    why = job_reason_text(job.reason, job.printed) if job.reason else "Estimate was high"
    return f"Refund: {why}. {counted}"


def copy_note(impressions: int) -> str:
    return f"Copy: {_pages(impressions)}"
