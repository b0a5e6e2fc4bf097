"""IPP operations of the simulated printer, mapped onto the engine.

Only jobs the engine got over IPP are IPP jobs. The one exception: Get-Jobs also lists
walk-up copies, so a metering client can see copies that interleaved with its print job
(the listing and its order: `simulator.ipp_job_order`).
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.ipp import build as b
from drivers.ipp.codec import IppGroup, IppMessage
from drivers.ipp.tags import GroupTag, Operation, Status, ValueTag
from drivers.pagecount import count_pages
from simulator.engine import Engine, SimError
from simulator.ipp_job_attrs import (
    DEFAULT_GET_JOBS,
    job_attributes,
    job_expansions,
    job_status_attributes,
)
from simulator.ipp_job_order import listed_jobs
from simulator.ipp_printer_attrs import (
    HOLD_UNTIL,
    WHICH_JOBS,
    StateClock,
    printer_attributes,
    printer_expansions,
)
from simulator.ipp_request import KEYWORD_OR_NAME, Ctx, IppFail, select, target_job_id
from simulator.ipp_ticket import check_document, read_ticket
from simulator.model import SimJob

_SIM_ERRORS = {
    "not-found": Status.CLIENT_ERROR_NOT_FOUND,
    "not-possible": Status.CLIENT_ERROR_NOT_POSSIBLE,
    "bad-request": Status.CLIENT_ERROR_BAD_REQUEST,
}

Handler = Callable[[Ctx], list[IppGroup]]


class IppOperations:
    """One handler per supported operation; each returns the groups after the operation group."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock = StateClock(engine)
        self.handlers: dict[int, Handler] = {
            Operation.PRINT_JOB: self.print_job,
            Operation.VALIDATE_JOB: self.validate_job,
            Operation.CREATE_JOB: self.create_job,
            Operation.SEND_DOCUMENT: self.send_document,
            Operation.CANCEL_JOB: self.cancel_job,
            Operation.GET_JOB_ATTRIBUTES: self.get_job_attributes,
            Operation.GET_JOBS: self.get_jobs,
            Operation.GET_PRINTER_ATTRIBUTES: self.get_printer_attributes,
            Operation.HOLD_JOB: self.hold_job,
            Operation.RELEASE_JOB: self.release_job,
        }

    def run(self, ctx: Ctx) -> list[IppGroup]:
        """Run the request's operation; the engine's refusals become IPP statuses."""
        try:
            return self.handlers[ctx.request.code](ctx)
        except SimError as exc:
            raise IppFail(_SIM_ERRORS.get(exc.kind, Status.CLIENT_ERROR_NOT_POSSIBLE),
                          str(exc)) from exc

    # ----- helpers -------------------------------------------------------------

    def _ipp_job(self, ctx: Ctx) -> SimJob:
        job_id = target_job_id(ctx)
        job = self.engine.jobs.get(job_id)
        if job is None or job.origin != "ipp":
            raise IppFail(Status.CLIENT_ERROR_NOT_FOUND, f"job {job_id} does not exist")
        return job

    def _pages(self, data: bytes, fmt: str, client_count: int | None) -> int:
        counted = count_pages(data, fmt, self.engine.config.lines_per_page) if data else None
        if counted is not None:
            return counted
        return client_count if client_count is not None else 1

    def _job_group(self, ctx: Ctx, job: SimJob) -> list[IppGroup]:
        return [IppGroup(GroupTag.JOB).add(*job_status_attributes(job, ctx.base_uri))]

    # ----- job creation --------------------------------------------------------

    def print_job(self, ctx: Ctx) -> list[IppGroup]:
        t = read_ticket(ctx)
        job = self.engine.submit(
            name=t.name, user=t.user, pages=self._pages(ctx.request.data, t.document_format,
                                                         t.impressions),
            copies=t.copies, sides=t.sides, color=t.color, media=t.media,
            document_format=t.document_format, hold_until=t.hold_until,
        )
        return self._job_group(ctx, job)

    def validate_job(self, ctx: Ctx) -> list[IppGroup]:
        read_ticket(ctx)
        return []

    def create_job(self, ctx: Ctx) -> list[IppGroup]:
        t = read_ticket(ctx)
        job = self.engine.submit(
            name=t.name, user=t.user, pages=0, copies=t.copies, sides=t.sides, color=t.color,
            media=t.media, document_format=t.document_format, hold_until=t.hold_until,
            awaiting_document=True,
        )
        return self._job_group(ctx, job)

    def send_document(self, ctx: Ctx) -> list[IppGroup]:
        job = self._ipp_job(ctx)
        last = ctx.op_bool("last-document")
        if last is None:
            raise IppFail(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
        fmt = check_document(ctx)
        impressions = ctx.op_int("job-impressions")
        job = self.engine.add_document(
            job.id, pages=self._pages(ctx.request.data, fmt, impressions), document_format=fmt
        )
        return self._job_group(ctx, job)

    # ----- job control ---------------------------------------------------------

    def cancel_job(self, ctx: Ctx) -> list[IppGroup]:
        self.engine.cancel(self._ipp_job(ctx).id)
        return []

    def hold_job(self, ctx: Ctx) -> list[IppGroup]:
        job = self._ipp_job(ctx)
        until = ctx.one(ctx.op, "job-hold-until", KEYWORD_OR_NAME)
        if until not in (None, *HOLD_UNTIL[1:]):
            raise ctx.reject_attr(ctx.op.attributes["job-hold-until"],
                                  f"value {until!r} is not supported")
        self.engine.hold(job.id)
        return []

    def release_job(self, ctx: Ctx) -> list[IppGroup]:
        self.engine.release(self._ipp_job(ctx).id)
        return []

    # ----- queries -------------------------------------------------------------

    def get_job_attributes(self, ctx: Ctx) -> list[IppGroup]:
        job = self._ipp_job(ctx)
        group = job_attributes(self.engine, job, ctx.base_uri)
        return [select(group, ctx.requested(frozenset({"all"})), job_expansions(group))]

    def get_jobs(self, ctx: Ctx) -> list[IppGroup]:
        """RFC 8011 §4.2.6, with `limit` and PWG 5100.13's `first-index` (1 = the first)."""
        which = ctx.op_str("which-jobs", (ValueTag.KEYWORD,)) or "not-completed"
        if which not in WHICH_JOBS:
            raise ctx.reject_attr(ctx.op.attributes["which-jobs"],
                                  f"value {which!r} is not supported")
        limit, first = ctx.op_int("limit"), ctx.op_int("first-index")
        for name, value in (("limit", limit), ("first-index", first)):
            if value is not None and value < 1:
                raise ctx.reject_attr(ctx.op.attributes[name], "must be at least 1")
        mine = ctx.op_bool("my-jobs") is True
        user = ctx.user()
        jobs = [job for job in listed_jobs(self.engine, which,
                                           oldest_first=self.engine.config.get_jobs_oldest_first)
                if not mine or job.user == user]
        start = (first or 1) - 1
        page = jobs[start:start + limit] if limit is not None else jobs[start:]
        requested = ctx.requested(DEFAULT_GET_JOBS)
        groups: list[IppGroup] = []
        for job in page:
            group = job_attributes(self.engine, job, ctx.base_uri)
            groups.append(select(group, requested, job_expansions(group)))
        return groups

    def get_printer_attributes(self, ctx: Ctx) -> list[IppGroup]:
        fmt = ctx.op_str("document-format", (ValueTag.MIME_MEDIA_TYPE,))
        if fmt is not None:
            check_document(ctx)
        http_base = "http" + ctx.base_uri.removeprefix("ipp").removesuffix("/ipp/print")
        group = printer_attributes(self.engine, self.clock, ctx.base_uri, http_base)
        return [select(group, ctx.requested(frozenset({"all"})), printer_expansions(group))]


def response(ctx: Ctx, status: Status, message: str | None, groups: list[IppGroup]) -> IppMessage:
    """The answer: operation group (charset, language, status-message), then the rest."""
    op = IppGroup(GroupTag.OPERATION).add(
        b.charset("attributes-charset", "utf-8"),
        b.language("attributes-natural-language", "en"),
    )
    if message:
        op.add(b.text("status-message", message[:255]))
    out = [op]
    if ctx.unsupported.attributes:
        out.append(ctx.unsupported)
    version = ctx.request.version if ctx.request.version[0] in (1, 2) else (1, 1)
    return IppMessage(version, status, ctx.request.request_id, out + groups)
