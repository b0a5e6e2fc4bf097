"""Typed results of the IPP client, read from decoded attribute groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from drivers.ipp.codec import IppGroup, LangString, Tagged, Value
from drivers.ipp.errors import IppProtocolError
from drivers.ipp.tags import JobState, PrinterState


@dataclass(frozen=True)
class JobInfo:
    """One job as the printer reports it.

    `impressions` is the whole job, all copies: the wire's job-impressions counts one copy
    (RFC 8011 §5.3.17.2), so it is multiplied by `copies` here to be comparable with
    `impressions_completed` and `sheets_completed`, which count every copy marked.
    """

    id: int
    name: str
    user: str
    state: JobState
    state_reasons: tuple[str, ...]
    impressions: int | None
    impressions_completed: int | None
    sheets_completed: int | None
    copies: int
    sides: str
    color: bool
    media: str | None
    hold_until: str | None
    created_at: datetime | None
    processing_at: datetime | None
    completed_at: datetime | None
    documents: int | None = None
    """number-of-documents: a job made with Create-Job may have several."""
    created_uptime: int | None = None
    processing_uptime: int | None = None
    completed_uptime: int | None = None
    """time-at-*: the printer's up-time in seconds at each step. About half of real printers
    give only these (no date-time-at-*, or no-value); None when absent or not yet reached."""
    printer_up_time: int | None = None
    """job-printer-up-time: the printer's up-time when it answered, the reference that
    places time-at-* on its clock."""

    @property
    def terminal(self) -> bool:
        """Canceled, aborted or completed: nothing more will print."""
        return self.state >= JobState.CANCELED


@dataclass(frozen=True)
class DocumentInfo:
    """One document of a job, as CUPS-Get-Document describes it; its bytes went elsewhere."""

    number: int
    format: str
    size: int


@dataclass(frozen=True)
class PrinterInfo:
    state: PrinterState
    state_reasons: tuple[str, ...]
    state_message: str
    impressions_completed: int | None
    impressions_mono: int | None
    impressions_color: int | None
    name: str
    make_model: str
    up_time: int | None
    current_time: datetime | None = None
    """The device's own wall clock (printer-current-time): its job times are on this clock,
    however wrong it is set. None when absent, and when the clock was never set."""
    clock_set: bool = True
    """False when printer-current-time is before 2001 (a clock never set counts from 1970 or
    2000): then it and every date-time-at-* are meaningless and left as None."""


CLOCK_NEVER_SET_BEFORE = datetime(2001, 1, 1, tzinfo=UTC)
"""A printer whose clock was never set counts from 1970 (or 2000 on some models); a date
before this is that, not a real time, and must not read as an offset of decades."""


def _plain(value: Value) -> Value:
    """A value of a 1setOf whose tag differs from the first (keyword mixed with name)."""
    return value.value if isinstance(value, Tagged) else value


def _str(value: Value) -> str | None:
    value = _plain(value)
    if isinstance(value, LangString):
        return value.text
    return value if isinstance(value, str) else None


def _int(value: Value) -> int | None:
    value = _plain(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _date(value: Value) -> datetime | None:
    """A dateTime on a clock that was set; a 1970 one is a clock never set, so unknown."""
    value = _plain(value)
    if not isinstance(value, datetime) or value < CLOCK_NEVER_SET_BEFORE:
        return None
    return value


def _uptime(value: Value) -> int | None:
    """A time-at-* in seconds of up-time; 0 or less is how many printers say 'not yet'."""
    seconds = _int(value)
    return seconds if seconds is not None and seconds > 0 else None


def _keywords(group: IppGroup, attr_name: str) -> tuple[str, ...]:
    """Every value of a 1setOf of keywords and names, each once, in the printer's order:
    printers repeat state reasons and mix keywords with names."""
    attr = group.get(attr_name)
    if attr is None:
        return ()
    return tuple(dict.fromkeys(s for s in map(_str, attr.values) if s is not None))


def job_from_group(group: IppGroup) -> JobInfo:
    """A JobInfo from a job-attributes group; missing id or unknown state is a protocol error."""
    job_id = _int(group.value("job-id"))
    if job_id is None:
        raise IppProtocolError("printer sent a job without a job-id")
    raw_state = _int(group.value("job-state"))
    if raw_state is None:
        raise IppProtocolError(f"printer sent job {job_id} with no job-state")
    try:
        state = JobState(raw_state)
    except ValueError:
        raise IppProtocolError(
            f"printer sent job {job_id} with an unknown job-state {group.value('job-state')!r}"
        ) from None
    copies = _int(group.value("copies")) or 1
    per_copy = _int(group.value("job-impressions"))
    return JobInfo(
        id=job_id,
        name=_str(group.value("job-name")) or "",
        user=_str(group.value("job-originating-user-name")) or "",
        state=state,
        state_reasons=_keywords(group, "job-state-reasons"),
        impressions=None if per_copy is None else per_copy * copies,
        impressions_completed=_int(group.value("job-impressions-completed")),
        sheets_completed=_int(group.value("job-media-sheets-completed")),
        copies=copies,
        sides=_str(group.value("sides")) or "one-sided",
        color=_str(group.value("print-color-mode")) == "color",
        media=_str(group.value("media")),
        hold_until=_str(group.value("job-hold-until")),
        created_at=_date(group.value("date-time-at-creation")),
        processing_at=_date(group.value("date-time-at-processing")),
        completed_at=_date(group.value("date-time-at-completed")),
        documents=_int(group.value("number-of-documents")),
        created_uptime=_uptime(group.value("time-at-creation")),
        processing_uptime=_uptime(group.value("time-at-processing")),
        completed_uptime=_uptime(group.value("time-at-completed")),
        printer_up_time=_uptime(group.value("job-printer-up-time")),
    )


def printer_from_group(group: IppGroup) -> PrinterInfo:
    raw = _int(group.value("printer-state"))
    try:
        state = PrinterState(0 if raw is None else raw)  # 0 is no state: refused below
    except ValueError:
        raise IppProtocolError(
            f"printer sent an unknown printer-state {group.value('printer-state')!r}"
        ) from None
    col = group.value("printer-impressions-completed-col")
    mono = color = None
    if isinstance(col, dict):
        mono = _int(col["monochrome"].value) if "monochrome" in col else None
        color = _int(col["full-color"].value) if "full-color" in col else None
    return PrinterInfo(
        state=state,
        state_reasons=_keywords(group, "printer-state-reasons"),
        state_message=_str(group.value("printer-state-message")) or "",
        impressions_completed=_int(group.value("printer-impressions-completed")),
        impressions_mono=mono,
        impressions_color=color,
        name=_str(group.value("printer-name")) or "",
        make_model=_str(group.value("printer-make-and-model")) or "",
        up_time=_int(group.value("printer-up-time")),
        current_time=_date(group.value("printer-current-time")),
        clock_set=not isinstance(now := group.value("printer-current-time"), datetime)
        or now >= CLOCK_NEVER_SET_BEFORE,
    )
