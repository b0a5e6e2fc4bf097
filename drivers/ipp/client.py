"""The agent's async IPP client: held jobs, release, cancel, job progress, printer counters.

Our codec for both directions rather than pyipp.IPP.execute: pyipp's parser drops the
attributes metering depends on (printer-impressions-completed-col is a collection,
date-time-at-* are dateTime) and loses the status-message of a refusal, which users must
see. The HTTP transport is drivers.ipp.http (h11), not pyipp's aiohttp, to keep the agent
small. Every failure surfaces as IppUnreachable, IppRefused or IppProtocolError, and a
document past the caller's bound as IppDocumentTooLarge.
"""

from __future__ import annotations

import itertools
import logging
from types import TracebackType
from typing import IO

from drivers.ipp import build as b
from drivers.ipp.codec import IppAttribute, IppDecodeError, IppGroup, IppMessage, decode, encode
from drivers.ipp.errors import (
    IppDocumentTooLarge,
    IppError,
    IppProtocolError,
    IppRefused,
    IppUnreachable,
)
from drivers.ipp.http import MAX_ANSWER, BodySink, HttpAnswer, HttpPool
from drivers.ipp.models import (
    DocumentInfo,
    JobInfo,
    JobState,
    PrinterInfo,
    job_from_group,
    printer_from_group,
)
from drivers.ipp.tags import GroupTag, Operation, Status

__all__ = ["IppClient", "IppDocumentTooLarge", "IppError", "IppProtocolError", "IppRefused",
           "IppUnreachable"]

JOB_ATTRIBUTES = (
    "job-id", "job-name", "job-originating-user-name", "job-state", "job-state-reasons",
    "job-impressions", "job-impressions-completed", "job-media-sheets-completed", "copies",
    "sides", "print-color-mode", "media", "job-hold-until", "date-time-at-creation",
    "date-time-at-processing", "date-time-at-completed", "number-of-documents",
    "time-at-creation", "time-at-processing", "time-at-completed", "job-printer-up-time",
)
PRINTER_ATTRIBUTES = (
    "printer-state", "printer-state-reasons", "printer-state-message",
    "printer-impressions-completed", "printer-impressions-completed-col", "printer-name",
    "printer-make-and-model", "printer-up-time", "printer-current-time",
)
READ_ONLY = frozenset({Operation.GET_JOBS, Operation.GET_JOB_ATTRIBUTES,
                       Operation.GET_PRINTER_ATTRIBUTES, Operation.CUPS_GET_DOCUMENT})
"""Operations safe to send twice when a kept-alive connection turns out to be closed."""
HTTP_REFUSALS = {401: Status.CLIENT_ERROR_NOT_AUTHENTICATED, 403: Status.CLIENT_ERROR_FORBIDDEN}
"""HTTP answers that are an IPP refusal in all but name: a server policy said no."""
log = logging.getLogger("pagetally.ipp")

HEAD_MAX = 64 * 1024
"""The most IPP attributes read before a document; CUPS sends under 200 bytes of them."""


class IppClient:
    """One printer. Open lazily, close with close() or `async with`."""

    def __init__(self, uri: str, *, timeout: float = 5.0, user: str = "pagetally",
                 tls_fingerprint: str = "") -> None:
        self.uri = uri
        self.timeout = timeout
        self.user = user
        self._http = HttpPool(uri, timeout, tls_fingerprint=tls_fingerprint)
        self._faults_logged: set[tuple[str, bool]] = set()
        self._ids = itertools.count(1)

    async def __aenter__(self) -> IppClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.close()

    # ----- operations ----------------------------------------------------------

    async def jobs(self, which: str = "not-completed", user: str | None = None,
                   limit: int | None = None) -> list[JobInfo]:
        attrs = [b.keyword("which-jobs", which), b.keyword("requested-attributes",
                                                             *JOB_ATTRIBUTES)]
        if user is not None:
            attrs.append(b.boolean("my-jobs", True))
        if limit is not None:
            attrs.append(b.integer("limit", limit))
        answer = await self._call(Operation.GET_JOBS, attrs, user=user)
        return [job_from_group(g) for g in answer.groups_of(GroupTag.JOB)]

    async def held_jobs(self, user: str | None = None) -> list[JobInfo]:
        """Jobs waiting for release (pending-held), optionally one user's only."""
        return [j for j in await self.jobs("not-completed", user)
                if j.state == JobState.PENDING_HELD]

    async def job(self, job_id: int) -> JobInfo:
        answer = await self._call(Operation.GET_JOB_ATTRIBUTES, [
            b.integer("job-id", job_id), b.keyword("requested-attributes", *JOB_ATTRIBUTES)])
        return job_from_group(self._group(answer, GroupTag.JOB, "job"))

    async def release(self, job_id: int) -> None:
        await self._call(Operation.RELEASE_JOB, [b.integer("job-id", job_id)])

    async def cancel(self, job_id: int) -> None:
        await self._call(Operation.CANCEL_JOB, [b.integer("job-id", job_id)])

    async def printer(self) -> PrinterInfo:
        answer = await self._call(Operation.GET_PRINTER_ATTRIBUTES, [
            b.keyword("requested-attributes", *PRINTER_ATTRIBUTES)])
        return printer_from_group(self._group(answer, GroupTag.PRINTER, "printer"))

    async def print_job(self, data: bytes, *, name: str, user: str,
                        document_format: str = "application/pdf", hold: bool = True,
                        copies: int = 1, sides: str = "one-sided", color: bool = False,
                        impressions: int | None = None) -> int:
        """Submit a document; returns the new job-id."""
        attrs = [b.name("job-name", name), b.mime_type("document-format", document_format)]
        if impressions is not None:
            attrs.append(b.integer("job-impressions", impressions))
        job = [b.integer("copies", copies), b.keyword("sides", sides),
               b.keyword("print-color-mode", "color" if color else "monochrome"),
               b.keyword("job-hold-until", "indefinite" if hold else "no-hold")]
        answer = await self._call(Operation.PRINT_JOB, attrs, job=job, data=data, user=user)
        job_id = self._group(answer, GroupTag.JOB, "job").value("job-id")
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise IppProtocolError("printer accepted the job but sent no job-id")
        return job_id

    async def get_document(self, job_id: int, into: IO[bytes], *, number: int = 1,
                           max_bytes: int, timeout: float | None = None) -> DocumentInfo:
        """CUPS-Get-Document: write document `number` of a job into `into` as it arrives.

        A CUPS extension (0x4027). A printer refuses it with operation-not-supported, and
        CUPS with not-authorized or forbidden when its policy keeps documents from us: both
        IppRefused. Past `max_bytes` of document the read stops with IppDocumentTooLarge and
        the connection is dropped, so a huge file costs at most that much of `into`; `timeout`
        bounds the whole download (the client's own timeout by default).
        """
        op = Operation.CUPS_GET_DOCUMENT
        request_id, body = self._request(op, [b.integer("job-id", job_id),
                                              b.integer("document-number", number)])
        sink = _DocumentSink(into, job_id, max_bytes)
        await self._post(op, body, sink=sink, limit=max_bytes + HEAD_MAX, timeout=timeout)
        answer = self._check(op, sink.finish(), request_id)
        # The spec puts document-format in the operation group; CUPS 2.4 sends a job group.
        found = next((g.value("document-format") for g in answer.groups
                      if g.get("document-format") is not None), None)
        fmt = found if isinstance(found, str) and found else "application/octet-stream"
        return DocumentInfo(number=number, format=fmt, size=sink.size)

    # ----- transport -----------------------------------------------------------

    @staticmethod
    def _group(answer: IppMessage, tag: int, what: str) -> IppGroup:
        group = answer.group(tag)
        if group is None:
            raise IppProtocolError(f"printer's answer has no {what} attributes")
        return group

    async def _call(self, op: Operation, attrs: list[IppAttribute], *,
                    job: list[IppAttribute] | None = None, data: bytes = b"",
                    user: str | None = None) -> IppMessage:
        request_id, body = self._request(op, attrs, job=job, data=data, user=user)
        raw = (await self._post(op, body)).body
        try:
            answer = decode(raw)
        except IppDecodeError as exc:
            raise IppProtocolError(f"printer sent a malformed IPP answer: {exc}") from exc
        self._note_faults(op, answer)
        return self._check(op, answer, request_id)

    def _note_faults(self, op: Operation, answer: IppMessage) -> None:
        """Log each attribute a printer sends malformed, once per attribute and client: the
        answer was used without it (or with its text read as Latin-1)."""
        for fault in (*answer.problems, *answer.notes):
            key = (fault.attribute, fault in answer.problems)
            if key in self._faults_logged:
                continue
            self._faults_logged.add(key)
            left_out = "left out" if fault in answer.problems else "read anyway"
            log.warning("printer %s: %s answer, %s (%s)", self.uri,
                        op.name.replace("_", "-").title(), fault, left_out)

    def _request(self, op: Operation, attrs: list[IppAttribute], *,
                 job: list[IppAttribute] | None = None, data: bytes = b"",
                 user: str | None = None) -> tuple[int, bytes]:
        """A request's id and its encoded bytes."""
        request_id = next(self._ids)
        groups = [IppGroup(GroupTag.OPERATION).add(
            b.charset("attributes-charset", "utf-8"),
            b.language("attributes-natural-language", "en"),
            b.uri("printer-uri", self.uri),
            b.name("requesting-user-name", user or self.user),
            *attrs,
        )]
        if job:
            groups.append(IppGroup(GroupTag.JOB).add(*job))
        return request_id, encode(IppMessage((2, 0), op, request_id, groups, data))

    @staticmethod
    def _check(op: Operation, answer: IppMessage, request_id: int) -> IppMessage:
        """The answer, if it is to this request and not a refusal."""
        if answer.request_id != request_id:
            raise IppProtocolError(
                f"printer answered request {answer.request_id}, expected {request_id}")
        if answer.code >= Status.CLIENT_ERROR_BAD_REQUEST:
            message = answer.operation.value("status-message")
            raise IppRefused(op.name.replace("_", "-").title(), answer.code,
                             message if isinstance(message, str) else None)
        return answer

    async def _post(self, op: Operation, body: bytes, *, sink: BodySink | None = None,
                    limit: int = MAX_ANSWER, timeout: float | None = None) -> HttpAnswer:
        answer = await self._http.post(body, "application/ipp", idempotent=op in READ_ONLY,
                                       sink=sink, limit=limit, timeout=timeout)
        where = self._http.where
        if answer.status in HTTP_REFUSALS:
            # CUPS refuses by policy in HTTP, before IPP (CUPS-Get-Document to a stranger).
            raise IppRefused(op.name.replace("_", "-").title(), HTTP_REFUSALS[answer.status],
                             f"HTTP {answer.status} {answer.reason}")
        if answer.status != 200:
            raise IppProtocolError(f"{where} answered HTTP {answer.status} {answer.reason}")
        if answer.content_type != "application/ipp":
            raise IppProtocolError(f"{where} answered with {answer.content_type or 'no type'}, "
                                   "not application/ipp")
        return answer


class _DocumentSink:
    """Splits a CUPS-Get-Document answer as it arrives: the IPP attributes are kept to decode,
    the document is written to `into`, and no more than `max_bytes` of it."""

    def __init__(self, into: IO[bytes], job_id: int, max_bytes: int) -> None:
        self.into, self.job_id, self.max_bytes = into, job_id, max_bytes
        self.start = into.tell()
        self.head = bytearray()
        self.answer: IppMessage | None = None
        self.size = 0

    def write(self, data: bytes, /) -> None:
        if self.answer is None:
            self.head += data
            if len(self.head) < HEAD_MAX:
                return
            data = self._split()
        self._document(data)

    def reset(self) -> None:
        self.into.seek(self.start)
        self.into.truncate()
        self.head.clear()
        self.answer, self.size = None, 0

    def finish(self) -> IppMessage:
        """The decoded attributes, once the whole answer is in."""
        if self.answer is None:
            self._document(self._split())
        assert self.answer is not None
        return self.answer

    def _split(self) -> bytes:
        """Decode the attributes from the head; what follows them is the document's start."""
        try:
            self.answer = decode(bytes(self.head))
        except IppDecodeError as exc:
            raise IppProtocolError(f"printer sent a malformed IPP answer: {exc}") from exc
        rest, self.answer.data = self.answer.data, b""
        self.head.clear()
        return rest

    def _document(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise IppDocumentTooLarge(self.job_id, self.max_bytes)
        self.into.write(data)
