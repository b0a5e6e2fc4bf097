"""A simulated job as IPP job attributes (RFC 8011 §5.3), read live from the engine's model."""

from __future__ import annotations

import math
import time

from drivers.ipp import build as b
from drivers.ipp.codec import IppAttribute, IppGroup
from drivers.ipp.tags import GroupTag, JobState
from simulator.engine import Engine
from simulator.model import SimJob

JOB_TEMPLATE_NAMES = frozenset({
    "copies", "finishings", "job-hold-until", "job-priority", "job-sheets", "media",
    "multiple-document-handling", "number-up", "orientation-requested", "output-bin",
    "print-color-mode", "print-quality", "printer-resolution", "sides",
})
DEFAULT_GET_JOBS = frozenset({"job-id", "job-uri"})

_STATE_MESSAGES = {
    JobState.PENDING: "Waiting to print.",
    JobState.PENDING_HELD: "Held until released.",
    JobState.PROCESSING: "Printing.",
    JobState.PROCESSING_STOPPED: "Stopped: the printer needs attention.",
    JobState.CANCELED: "Canceled.",
    JobState.ABORTED: "Aborted by the printer.",
    JobState.COMPLETED: "Completed.",
}


def job_uri(base_uri: str, job_id: int) -> str:
    return f"{base_uri}/{job_id}"


def _time(engine: Engine, attr_name: str, at: float | None) -> IppAttribute:
    if at is None:
        return b.no_value(attr_name)
    return b.integer(attr_name, engine.seconds_since_boot(at))


def _date(engine: Engine, attr_name: str, at: float | None) -> IppAttribute:
    if at is None:
        return b.no_value(attr_name)
    return b.date_time(attr_name, engine.device_clock(at))


_STEPS = ("creation", "processing", "completed")


def _job_times(engine: Engine, job: SimJob) -> list[IppAttribute]:
    """time-at-* and date-time-at-*, or what a quirk profile leaves of them: printers that
    stamp up-time only say 0 for a step not reached (the Xerox B210 does)."""
    stamps = (job.created_at, job.processing_at, job.completed_at)
    mode = engine.quirks.job_times
    if mode == "none":
        return []
    if mode == "uptime-only":
        return [b.integer(f"time-at-{step}", engine.seconds_since_boot(at) if at else 0)
                for step, at in zip(_STEPS, stamps, strict=True)]
    return [*(_time(engine, f"time-at-{step}", at) for step, at in zip(_STEPS, stamps,
                                                                          strict=True)),
            *(_date(engine, f"date-time-at-{step}", at) for step, at in zip(_STEPS, stamps,
                                                                              strict=True))]


def job_status_attributes(job: SimJob, base_uri: str) -> list[IppAttribute]:
    """What a job-creating operation answers with."""
    return [
        b.uri("job-uri", job_uri(base_uri, job.id)),
        b.integer("job-id", job.id),
        b.enum("job-state", job.state),
        b.keyword("job-state-reasons", *job.reasons),
        b.text("job-state-message", job.state_message or _STATE_MESSAGES[job.state]),
    ]


def _progress(engine: Engine, job: SimJob, sheets: int) -> list[IppAttribute]:
    """Per-job counts, unless the device is told to report none (as many real ones do)."""
    if not engine.faults.ipp_counters:
        return [b.integer("job-media-sheets", sheets)]
    return [
        b.integer("job-impressions-completed", job.impressions_completed),
        b.integer("job-media-sheets", sheets),
        b.integer("job-media-sheets-completed", job.sheets_completed),
    ]


def job_attributes(engine: Engine, job: SimJob, base_uri: str) -> IppGroup:
    """Every attribute of one job."""
    sheets = math.ceil(job.impressions / 2) if job.duplex else job.impressions
    return IppGroup(GroupTag.JOB).add(
        *job_status_attributes(job, base_uri),
        b.uri("job-printer-uri", base_uri),
        b.name("job-name", job.name),
        b.name("job-originating-user-name", job.user),
        b.integer("number-of-documents", 0 if job.awaiting_document else 1),
        b.integer("job-impressions", job.pages),
        *_progress(engine, job, sheets),
        b.integer("job-printer-up-time", engine.seconds_since_boot(time.time())),
        *_job_times(engine, job),
        b.mime_type("document-format", job.document_format),
        b.integer("copies", job.copies),
        b.keyword("sides", job.sides),
        b.keyword("print-color-mode", job.color_mode),
        b.keyword("media", job.media),
        b.keyword("job-hold-until", job.hold_until or "no-hold"),
        b.integer("job-priority", 50),
        b.keyword("job-sheets", "none"),
    )


def job_expansions(group: IppGroup) -> dict[str, frozenset[str]]:
    """What the group keywords of requested-attributes stand for."""
    names = frozenset(group.attributes)
    return {"job-template": names & JOB_TEMPLATE_NAMES,
            "job-description": names - JOB_TEMPLATE_NAMES}
