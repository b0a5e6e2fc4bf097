"""Why a job settled the way it did: stable codes for the ledger and sentences for people.

The code goes into the ledger and the MQTT payload (machines compare it); the sentence goes
on the panel, the receipt and the transaction note (people read it).
"""

from __future__ import annotations

NEVER_STARTED = "never-started"
JAM = "jam"
PAPER_OUT = "paper-out"
CANCELED_AT_DEVICE = "canceled-at-device"
CANCELED_BY_USER = "canceled-by-user"
ABORTED = "aborted"
COMPLETED = "completed"
EXPIRED = "expired"

REASONS: frozenset[str] = frozenset(
    {NEVER_STARTED, JAM, PAPER_OUT, CANCELED_AT_DEVICE, CANCELED_BY_USER, ABORTED, COMPLETED,
     EXPIRED}
)

_SENTENCES: dict[str, tuple[str, str]] = {
    # code: (sentence without a page, sentence with "{page}")
    NEVER_STARTED: ("Job never started printing", "Job never started printing"),
    JAM: ("Paper jam", "Paper jam at page {page}"),
    PAPER_OUT: ("Printer ran out of paper", "Printer ran out of paper at page {page}"),
    CANCELED_AT_DEVICE: ("Canceled at the printer", "Canceled at the printer at page {page}"),
    CANCELED_BY_USER: ("Canceled by you", "Canceled by you at page {page}"),
    ABORTED: ("Printer aborted the job", "Printer aborted the job at page {page}"),
    COMPLETED: ("Printed", "Printed"),
    EXPIRED: ("Waited too long and was deleted, at no charge",
              "Waited too long and was deleted, at no charge"),
}


def check_reason(code: str | None) -> str | None:
    """Return the code if it is known (or None); refuse typos before they reach the ledger."""
    if code is not None and code not in REASONS:
        known = ", ".join(sorted(REASONS))
        raise ValueError(f"unknown reason code {code!r}; known codes: {known}")
    return code


#: Reasons where the page count says where it happened ("Paper jam at page 3").
AT_PAGE: frozenset[str] = frozenset({JAM, PAPER_OUT, CANCELED_AT_DEVICE, CANCELED_BY_USER})


def job_reason_text(code: str, printed: int | None) -> str:
    """The sentence for a settled job, with the page where it stopped when that matters."""
    return reason_text(code, at_page=printed if code in AT_PAGE else None)


def reason_text(code: str, *, at_page: int | None = None) -> str:
    """A sentence for people: reason_text("jam", at_page=3) -> "Paper jam at page 3".

    A reason that is not a code (abandon() accepts a short sentence) is returned as it is,
    so showing a stored job never fails.
    """
    if code not in _SENTENCES:
        return code
    plain, with_page = _SENTENCES[code]
    if at_page is None:
        return plain
    return with_page.format(page=at_page)
