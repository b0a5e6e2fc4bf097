"""The simulator's IPP printer over real HTTP: operations, filters, counters, malformed input."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from drivers.ipp import build as b
from drivers.ipp.codec import IppAttribute, IppGroup, IppMessage, decode, encode
from drivers.ipp.tags import GroupTag, Operation, Status, ValueTag
from simulator.client import SimClient
from tests.data.ipp_samples import pdf
from tests.helpers import SimHandle, start_sim


class Printer:
    """Raw IPP requests to one printer URI."""

    def __init__(self, session: aiohttp.ClientSession, ipp_uri: str) -> None:
        self.session = session
        self.uri = ipp_uri
        self.url = "http" + ipp_uri.removeprefix("ipp")
        self.request_id = 0

    async def post(self, body: bytes, content_type: str = "application/ipp") -> IppMessage:
        async with self.session.post(self.url, data=body,
                                     headers={"Content-Type": content_type}) as resp:
            assert resp.status == 200
            return decode(await resp.read())

    def build(self, op: int, *attrs: IppAttribute, job: tuple[IppAttribute, ...] = (),
              data: bytes = b"", user: str = "alice") -> bytes:
        self.request_id += 1
        group = IppGroup(GroupTag.OPERATION).add(
            b.charset("attributes-charset", "utf-8"),
            b.language("attributes-natural-language", "en"),
            b.uri("printer-uri", self.uri), b.name("requesting-user-name", user), *attrs)
        groups = [group] + ([IppGroup(GroupTag.JOB).add(*job)] if job else [])
        return encode(IppMessage((2, 0), op, self.request_id, groups, data))

    async def call(self, op: int, *attrs: IppAttribute, job: tuple[IppAttribute, ...] = (),
                   data: bytes = b"", user: str = "alice") -> IppMessage:
        answer = await self.post(self.build(op, *attrs, job=job, data=data, user=user))
        assert answer.request_id == self.request_id
        return answer

    async def print_held(self, pages: int = 1, user: str = "alice",
                         *job: IppAttribute) -> int:
        answer = await self.call(Operation.PRINT_JOB, b.mime_type("document-format",
                                                                  "application/pdf"),
                                 job=(b.keyword("job-hold-until", "indefinite"), *job),
                                 data=pdf(pages), user=user)
        assert answer.code == Status.OK, answer.operation.value("status-message")
        jobs = answer.group(GroupTag.JOB)
        assert jobs is not None and jobs.value("job-state") == 4
        job_id = jobs.value("job-id")
        assert isinstance(job_id, int)
        return job_id

    async def job(self, job_id: int) -> IppGroup:
        answer = await self.call(Operation.GET_JOB_ATTRIBUTES, b.integer("job-id", job_id))
        assert answer.code == Status.OK, answer.operation.value("status-message")
        group = answer.group(GroupTag.JOB)
        assert group is not None
        return group

    async def wait_job(self, job_id: int, done: Callable[[IppGroup], bool],
                       timeout: float = 20.0) -> IppGroup:
        deadline = time.monotonic() + timeout
        while True:
            group = await self.job(job_id)
            if done(group):
                return group
            assert time.monotonic() < deadline, f"job {job_id} never got there: {group}"
            await asyncio.sleep(0.02)

    async def printer(self) -> IppGroup:
        answer = await self.call(Operation.GET_PRINTER_ATTRIBUTES)
        group = answer.group(GroupTag.PRINTER)
        assert answer.code == Status.OK and group is not None
        return group

    async def jobs(self, *attrs: IppAttribute, user: str = "alice") -> list[IppGroup]:
        answer = await self.call(Operation.GET_JOBS, *attrs, user=user)
        assert answer.code == Status.OK, answer.operation.value("status-message")
        return answer.groups_of(GroupTag.JOB)


@pytest.fixture
async def printer(sim: SimHandle) -> AsyncIterator[Printer]:
    async with aiohttp.ClientSession() as session:
        yield Printer(session, sim.ipp)


def _col(group: IppGroup, attr_name: str) -> dict[str, object]:
    value = group.value(attr_name)
    assert isinstance(value, dict)
    return {k: v.value for k, v in value.items()}


async def test_held_duplex_color_job_prints_and_counts(printer: Printer,
                                                       sim_client: SimClient) -> None:
    before = await printer.printer()
    job_id = await printer.print_held(3, "alice", b.integer("copies", 2),
                                      b.keyword("sides", "two-sided-long-edge"),
                                      b.keyword("print-color-mode", "color"))
    held = await printer.job(job_id)
    assert held.value("job-state-reasons") == "job-hold-until-specified"
    assert (held.value("job-impressions"), held.value("copies")) == (3, 2)
    assert held.value("sides") == "two-sided-long-edge"
    assert held.value("print-color-mode") == "color"
    assert held.value("job-hold-until") == "indefinite"
    assert held.value("job-originating-user-name") == "alice"
    created = held.value("date-time-at-creation")
    assert isinstance(created, datetime) and created.utcoffset() is not None
    assert held.get("time-at-processing").tag == ValueTag.NO_VALUE  # type: ignore[union-attr]

    answer = await printer.call(Operation.RELEASE_JOB, b.integer("job-id", job_id))
    assert answer.code == Status.OK
    done = await printer.wait_job(job_id, lambda g: g.value("job-state") == 9)
    assert done.value("job-impressions-completed") == 6
    assert done.value("job-media-sheets-completed") == 3
    assert done.value("job-state-reasons") == "job-completed-successfully"
    assert isinstance(done.value("date-time-at-completed"), datetime)

    after = await printer.printer()
    truth = sim_client.counters()
    assert after.value("printer-impressions-completed") == \
        before.value("printer-impressions-completed") + 6  # type: ignore[operator]
    assert _col(after, "printer-impressions-completed-col") == {
        "monochrome": truth["true_mono"], "full-color": truth["true_color"]}
    assert truth["true_color"] - _col(before, "printer-impressions-completed-col")[
        "full-color"] == 6  # type: ignore[operator]
    assert after.value("printer-state") in (3, 4)


async def test_get_jobs_filters_and_lists_walk_up_copies(printer: Printer,
                                                         sim_client: SimClient) -> None:
    a1 = await printer.print_held(1, "alice")
    a2 = await printer.print_held(2, "alice")
    b1 = await printer.print_held(1, "bob")
    copy_id = sim_client.copy(2, user="carol")
    sim_client.wait_job(copy_id, ("completed",))

    pending = await printer.jobs()
    assert [g.value("job-id") for g in pending] == [a1, a2, b1]
    assert set(pending[0].attributes) == {"job-id", "job-uri"}
    assert pending[0].value("job-uri") == f"{printer.uri}/{a1}"
    mine = await printer.jobs(b.boolean("my-jobs", True), user="bob")
    assert [g.value("job-id") for g in mine] == [b1]
    limited = await printer.jobs(b.integer("limit", 2))
    assert [g.value("job-id") for g in limited] == [a1, a2]

    completed = await printer.jobs(b.keyword("which-jobs", "completed"),
                                   b.keyword("requested-attributes", "all"))
    copy = next(g for g in completed if g.value("job-id") == copy_id)
    assert copy.value("job-name") == "Copy"
    assert copy.value("job-originating-user-name") == "carol"
    assert copy.value("job-impressions-completed") == 2
    everything = await printer.jobs(b.keyword("which-jobs", "all"))
    assert {g.value("job-id") for g in everything} == {a1, a2, b1, copy_id}

    answer = await printer.call(Operation.GET_JOB_ATTRIBUTES, b.integer("job-id", copy_id))
    assert answer.code == Status.CLIENT_ERROR_NOT_FOUND
    answer = await printer.call(Operation.GET_JOBS, b.keyword("which-jobs", "proof-print"))
    assert answer.code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None and unsupported.value("which-jobs") == "proof-print"


def _ids(groups: list[IppGroup]) -> list[object]:
    return [g.value("job-id") for g in groups]


async def test_get_jobs_order_limit_and_first_index(printer: Printer,
                                                    sim_client: SimClient) -> None:
    """RFC 8011 §4.2.6.2: completed newest first by completion time (not by job-id);
    not-completed in the order they will finish; `limit` and `first-index` page that."""
    a = await printer.print_held(1)
    b_ = await printer.print_held(1)
    c = sim_client.copy(1)
    sim_client.wait_job(c, ("completed",))
    await printer.call(Operation.RELEASE_JOB, b.integer("job-id", a))
    sim_client.wait_job(a, ("completed",))
    await printer.call(Operation.CANCEL_JOB, b.integer("job-id", b_))
    completed = b.keyword("which-jobs", "completed")
    want = [b_, a, c]  # neither ascending nor descending job-id
    assert _ids(await printer.jobs(completed)) == want
    assert _ids(await printer.jobs(completed, b.integer("limit", 2))) == want[:2]
    assert _ids(await printer.jobs(completed, b.integer("first-index", 2),
                                   b.integer("limit", 1))) == [a]
    assert _ids(await printer.jobs(completed, b.integer("first-index", 9))) == []

    sim_client.job_faults(None, paper_out_at=1)
    stopped = sim_client.submit("stops.pdf", "alice", 2, hold=False)
    sim_client.wait_job(stopped, ("processing-stopped",))
    held = await printer.print_held(1)
    ready = sim_client.submit("ready.pdf", "alice", 1, hold=False)
    queued_copy = sim_client.copy(1)
    live = [stopped, queued_copy, ready, held]  # the engine's own order, not job-id order
    assert _ids(await printer.jobs()) == live
    assert _ids(await printer.jobs(b.keyword("which-jobs", "all"))) == live + want
    assert _ids(await printer.jobs(b.keyword("which-jobs", "all"),
                                   b.integer("limit", 5))) == [*live, b_]

    for name in ("limit", "first-index"):
        answer = await printer.call(Operation.GET_JOBS, b.integer(name, 0))
        assert answer.code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
        unsupported = answer.group(GroupTag.UNSUPPORTED)
        assert unsupported is not None and unsupported.value(name) == 0
    sim_client.clear()
    sim_client.wait_job(queued_copy, ("completed",))
    sim_client.wait_job(ready, ("completed",))
    newest = _ids(await printer.jobs(completed, b.integer("limit", 3)))
    assert newest == [ready, stopped, queued_copy]  # the copy cut in before the last page


async def test_quirk_lists_completed_jobs_oldest_first() -> None:
    handle = start_sim("--get-jobs-oldest-first")
    try:
        client = SimClient(handle.control)
        copies = [client.copy(1) for _ in range(3)]
        client.wait_job(copies[-1], ("completed",))
        async with aiohttp.ClientSession() as session:
            printer = Printer(session, handle.ipp)
            listed = await printer.jobs(b.keyword("which-jobs", "completed"),
                                        b.integer("limit", 2))
        assert _ids(listed) == copies[:2]
    finally:
        handle.child.stop()


async def test_create_job_then_send_document(printer: Printer) -> None:
    created = await printer.call(Operation.CREATE_JOB, b.name("job-name", "report"),
                                 job=(b.keyword("job-hold-until", "indefinite"),))
    job_id = created.group(GroupTag.JOB).value("job-id")  # type: ignore[union-attr]
    assert isinstance(job_id, int)
    text = b"".join(b"line %d\n" % i for i in range(130))
    sent = await printer.call(Operation.SEND_DOCUMENT, b.integer("job-id", job_id),
                              b.boolean("last-document", True),
                              b.mime_type("document-format", "text/plain"), data=text)
    assert sent.code == Status.OK
    job = await printer.job(job_id)
    assert (job.value("job-impressions"), job.value("job-name")) == (3, "report")
    assert job.value("document-format") == "text/plain"

    other = await printer.call(Operation.CREATE_JOB)
    other_id = other.group(GroupTag.JOB).value("job-id")  # type: ignore[union-attr]
    answer = await printer.call(Operation.SEND_DOCUMENT, b.integer("job-id", other_id),  # type: ignore[arg-type]
                                data=text)
    assert answer.code == Status.CLIENT_ERROR_BAD_REQUEST
    assert "last-document" in str(answer.operation.value("status-message"))


async def test_hold_cancel_and_refusals(printer: Printer) -> None:
    job_id = await printer.print_held(2)
    assert (await printer.call(Operation.HOLD_JOB, b.integer("job-id", job_id))).code == 0
    answer = await printer.call(Operation.CANCEL_JOB, b.integer("job-id", job_id))
    assert answer.code == Status.OK
    job = await printer.job(job_id)
    assert job.value("job-state") == 7
    assert job.value("job-state-reasons") == "job-canceled-by-user"
    for op in (Operation.CANCEL_JOB, Operation.RELEASE_JOB, Operation.HOLD_JOB):
        answer = await printer.call(op, b.integer("job-id", job_id))
        assert answer.code == Status.CLIENT_ERROR_NOT_POSSIBLE
        assert str(job_id) in str(answer.operation.value("status-message"))
    answer = await printer.call(Operation.CANCEL_JOB, b.integer("job-id", 9999))
    assert answer.code == Status.CLIENT_ERROR_NOT_FOUND
    answer = await printer.call(Operation.GET_JOB_ATTRIBUTES,
                                b.uri("job-uri", f"{printer.uri}/{job_id}"))
    assert answer.group(GroupTag.JOB).value("job-id") == job_id  # type: ignore[union-attr]


async def test_cancel_while_printing_says_who_canceled(printer: Printer,
                                                      sim_client: SimClient) -> None:
    """RFC 8011: Stop on the device's panel is job-canceled-at-device; Cancel-Job from the
    user is job-canceled-by-user, also when the job is mid-print (not only while held)."""
    for how, reason in (("panel", "job-canceled-at-device"), ("ipp", "job-canceled-by-user")):
        job_id = sim_client.submit(f"stop-{how}", "alice", 400, hold=False)
        printing = await printer.wait_job(
            job_id, lambda g: g.value("job-impressions-completed") >= 1)
        assert printing.value("job-state") == 5  # processing
        if how == "panel":
            sim_client.cancel_at_device(job_id)
        else:
            answer = await printer.call(Operation.CANCEL_JOB, b.integer("job-id", job_id))
            assert answer.code == Status.OK
        done = await printer.wait_job(job_id, lambda g: g.value("job-state") == 7)
        assert done.value("job-state-reasons") == reason, how


async def test_job_template_checks(printer: Printer) -> None:
    ok = await printer.call(Operation.VALIDATE_JOB,
                            b.mime_type("document-format", "application/pdf"))
    assert ok.code == Status.OK
    jpeg = await printer.call(Operation.VALIDATE_JOB, b.mime_type("document-format",
                                                                  "image/jpeg"))
    assert jpeg.code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED
    gz = await printer.call(Operation.VALIDATE_JOB, b.keyword("compression", "gzip"))
    assert gz.code == Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED
    ignored = await printer.call(Operation.VALIDATE_JOB, job=(b.keyword("sides", "tri-fold"),))
    assert ignored.code == Status.OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert ignored.group(GroupTag.UNSUPPORTED).value("sides") == "tri-fold"  # type: ignore[union-attr]
    strict = await printer.call(Operation.VALIDATE_JOB, b.boolean("ipp-attribute-fidelity", True),
                                job=(b.keyword("sides", "tri-fold"),))
    assert strict.code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    syntax = await printer.call(Operation.PRINT_JOB, job=(b.keyword("copies", "two"),))
    assert syntax.code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert "copies" in str(syntax.operation.value("status-message"))


async def test_page_count_falls_back_to_client_count_then_one(printer: Printer) -> None:
    counted = await printer.call(Operation.PRINT_JOB, b.integer("job-impressions", 7),
                                 job=(b.keyword("job-hold-until", "indefinite"),),
                                 data=b"\x1b%-12345X unknown PDL")
    guessed = await printer.call(Operation.PRINT_JOB,
                                 job=(b.keyword("job-hold-until", "indefinite"),),
                                 data=b"\x1b%-12345X unknown PDL")
    for answer, pages in ((counted, 7), (guessed, 1)):
        job_id = answer.group(GroupTag.JOB).value("job-id")  # type: ignore[union-attr]
        assert (await printer.job(job_id)).value("job-impressions") == pages  # type: ignore[arg-type]


async def test_malformed_requests_get_ipp_errors(printer: Printer) -> None:
    valid = printer.build(Operation.GET_PRINTER_ATTRIBUTES)
    cases: list[tuple[bytes, Status]] = [
        (b"hello world, not IPP at all", Status.CLIENT_ERROR_BAD_REQUEST),
        (b"\x02\x00", Status.CLIENT_ERROR_BAD_REQUEST),
        (valid[:30], Status.CLIENT_ERROR_BAD_REQUEST),
        (b"\x00\x00" + valid[2:], Status.SERVER_ERROR_VERSION_NOT_SUPPORTED),
        (b"\x03\x00" + valid[2:], Status.SERVER_ERROR_VERSION_NOT_SUPPORTED),
        (valid[:2] + b"\x00\x99" + valid[4:], Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED),
        (valid[:4] + b"\x00\x00\x00\x00" + valid[8:], Status.CLIENT_ERROR_BAD_REQUEST),
        (encode(IppMessage((2, 0), Operation.GET_JOBS, 5, [IppGroup(GroupTag.OPERATION).add(
            b.charset("attributes-charset", "utf-8"),
            b.language("attributes-natural-language", "en"))])), Status.CLIENT_ERROR_BAD_REQUEST),
        (encode(IppMessage((2, 0), Operation.GET_JOBS, 5, [IppGroup(GroupTag.OPERATION).add(
            b.uri("printer-uri", printer.uri))])), Status.CLIENT_ERROR_BAD_REQUEST),
    ]
    for body, status in cases:
        answer = await printer.post(body)
        assert answer.code == status, (body[:16], answer.operation.value("status-message"))
        assert answer.operation.value("status-message")
    async with printer.session.post(printer.url, data=valid,
                                    headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 400
    assert (await printer.printer()).value("printer-state") in (3, 4)


async def test_oversized_request_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "sim.toml"
    config.write_text("[sim]\nmax_request_bytes = 65536\n")
    handle = start_sim("--config", str(config))
    try:
        async with aiohttp.ClientSession() as session:
            printer = Printer(session, handle.ipp)
            answer = await printer.call(Operation.PRINT_JOB, data=b"x" * 200_000)
            assert answer.code == Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE
            assert "65536" in str(answer.operation.value("status-message"))
            assert (await printer.printer()).value("queued-job-count") == 0
    finally:
        handle.child.stop()
