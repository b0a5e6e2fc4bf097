"""The API's view of one metered job: what it costs, how far it got, what came back."""

from __future__ import annotations

from agent.api.payloads import JobStatus
from agent.ledger import Ledger
from agent.ledger.reasons import job_reason_text
from agent.metering.follower import Progress
from agent.money import format_money

_STATE = {"snapshotting": "releasing", "released": "printing", "following": "printing",
          "settled": "settled", "review": "review", "abandoned": "abandoned"}


def job_status(ledger: Ledger, job_key: str, progress: Progress | None) -> JobStatus:
    row = ledger.job(job_key)
    txns = ledger.txns(session_key=job_key)
    charged = -sum(t.amount for t in txns)
    refunded = sum(t.amount for t in txns if t.kind == "refund")
    currency = ledger.currency
    state = _STATE[row.state]
    printed = row.printed
    if progress is not None and row.state not in ("settled", "review", "abandoned"):
        state = progress.state if progress.state != "queued" else state
        printed = progress.printed
    return JobStatus(
        job_key=job_key,
        id=row.queue_job_id,
        name=row.name,
        user=row.user,
        state=state,  # type: ignore[arg-type]  # Progress.state is one of JobState, as str
        printed=printed or 0,
        total=row.impressions,
        estimate=row.estimate,
        estimate_text=format_money(row.estimate, currency),
        charged=charged,
        charged_text=format_money(charged, currency),
        refunded=refunded,
        refunded_text=format_money(refunded, currency),
        reason=row.reason,
        reason_text=job_reason_text(row.reason, row.printed) if row.reason else None,
        review=row.review,
        review_note=row.review_note,
        stopped_for=progress.stopped_for if progress else None,
    )
