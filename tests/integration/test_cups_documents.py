"""Held jobs' documents read back from a real private cupsd (CUPS-Get-Document) and counted.

The client streams the document past its IPP attributes into a file, stops at a bound, and
says plainly when CUPS (or a printer without the extension) refuses. DocumentPages counts
each job once, unpacks gzip documents as CUPS keeps them, and answers "cannot be counted"
for anything else.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import plistlib
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import h11
import pytest

from agent.documents import DocumentLimits, DocumentPages
from drivers.ipp import build as b
from drivers.ipp.client import IppClient, IppDocumentTooLarge, IppRefused
from drivers.ipp.codec import IppGroup, IppMessage, decode, encode
from drivers.ipp.models import JobInfo
from drivers.ipp.tags import GroupTag, Status
from tests.cups import Cupsd
from tests.data.ipp_samples import pdf, postscript
from tests.helpers import start_sim
from tests.integration.conftest import AddQueue

NOWHERE = "ipp://127.0.0.1:9/ipp/print"
"""A raw queue's device, never contacted: these jobs stay held."""


@pytest.fixture
def held_queue(cups_queue: AddQueue) -> str:
    return cups_queue(NOWHERE, hold=True, model="raw").uri


async def held(uri: str, data: bytes, *, fmt: str = "application/pdf", copies: int = 1,
               name: str = "doc") -> JobInfo:
    async with IppClient(uri) as cups:
        job_id = await cups.print_job(data, name=name, user="alice", document_format=fmt,
                                      copies=copies, hold=True)
        return await cups.job(job_id)


def print_gzip(uri: str, path: Path, fmt: str) -> int:
    """Submit a file with compression=gzip through CUPS's own ipptool, as CUPS's IPP backend
    and macOS clients send jobs; returns the job-id."""
    test = path.with_suffix(".test")
    test.write_text("\n".join([
        "{", 'NAME "gzip print"', "OPERATION Print-Job", "GROUP operation-attributes-tag",
        "ATTR charset attributes-charset utf-8", "ATTR language attributes-natural-language en",
        "ATTR uri printer-uri $uri", "ATTR name requesting-user-name alice",
        f"ATTR mimeMediaType document-format {fmt}", "ATTR keyword compression gzip",
        "COMPRESSION gzip", f"FILE {path}", "STATUS successful-ok", "}"]) + "\n")
    done = subprocess.run(["ipptool", "-X", "-T", "10", uri, str(test)], capture_output=True,
                          timeout=30, check=False)
    [result] = plistlib.loads(done.stdout)["Tests"]
    assert result["Successful"], result
    return next(int(group["job-id"]) for group in result["ResponseAttributes"]
                if "job-id" in group)


@pytest.fixture
def sim_uri() -> Iterator[str]:
    sim = start_sim()
    yield sim.ipp
    sim.child.stop()


# ----- the client ------------------------------------------------------------------


async def test_get_document_returns_the_bytes_submitted(held_queue: str) -> None:
    doc = pdf(5)
    job = await held(held_queue, doc)
    into = io.BytesIO()
    async with IppClient(held_queue) as cups:
        info = await cups.get_document(job.id, into, max_bytes=1 << 20)
    assert (info.number, info.format, info.size) == (1, "application/pdf", len(doc))
    assert into.getvalue() == doc


async def test_a_document_over_the_bound_stops_the_read_and_the_client_goes_on(
        held_queue: str) -> None:
    doc = pdf(40)
    job = await held(held_queue, doc)
    async with IppClient(held_queue) as cups:
        into = io.BytesIO()
        with pytest.raises(IppDocumentTooLarge) as refused:
            await cups.get_document(job.id, into, max_bytes=len(doc) - 1)
        assert len(into.getvalue()) < len(doc)
        assert str(refused.value) == (
            f"the document of job {job.id} is larger than {len(doc) - 1:,} bytes")
        again = io.BytesIO()
        await cups.get_document(job.id, again, max_bytes=len(doc))
        assert again.getvalue() == doc


async def test_no_such_job_is_refused_in_plain_words(held_queue: str) -> None:
    async with IppClient(held_queue) as cups:
        with pytest.raises(IppRefused) as refused:
            await cups.get_document(99999, io.BytesIO(), max_bytes=1000)
    assert refused.value.status == Status.CLIENT_ERROR_NOT_FOUND
    assert str(refused.value).startswith(
        "printer refused Cups-Get-Document with client-error-not-found")


async def test_documented_policy_lets_the_agent_read_and_refuses_others(
        held_queue: str) -> None:
    """The private cupsd runs the CUPS-Get-Document limit docs/config.md gives sites: the
    agent ("pagetally") and the owner may read; anyone else is refused in HTTP (401), which
    the client reports as a refusal, and which leaves the job uncounted."""
    job = await held(held_queue, pdf(2))
    async with IppClient(held_queue, user="mallory") as stranger:
        with pytest.raises(IppRefused) as refused:
            await stranger.get_document(job.id, io.BytesIO(), max_bytes=1 << 20)
        assert refused.value.status == Status.CLIENT_ERROR_NOT_AUTHENTICATED
        assert str(refused.value) == ("printer refused Cups-Get-Document with "
                                      "client-error-not-authenticated: HTTP 401 Unauthorized")
        assert await DocumentPages(stranger).pages(job) is None
    async with IppClient(held_queue, user="alice") as owner:
        await owner.get_document(job.id, io.BytesIO(), max_bytes=1 << 20)
    async with IppClient(held_queue) as agent:
        assert agent.user == "pagetally"
        assert await DocumentPages(agent).pages(job) == 2


async def test_a_printer_without_the_cups_extension_refuses(sim_uri: str) -> None:
    async with IppClient(sim_uri) as printer:
        with pytest.raises(IppRefused) as refused:
            await printer.get_document(1, io.BytesIO(), max_bytes=1000)
    assert refused.value.status == Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED


class ResetsOnReuse:
    """A CUPS-Get-Document server that, on a kept-alive connection's second request, sends
    half the answer and resets the connection, as a server dropping an idle connection can."""

    def __init__(self, document: bytes) -> None:
        self.document = document
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = h11.Connection(h11.SERVER)
        for served in (1, 2):
            body = b""
            while not isinstance(event := conn.next_event(), h11.EndOfMessage):
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Data):
                    body += event.data
            request = decode(body)
            answer = encode(IppMessage((2, 0), Status.OK, request.request_id, [
                IppGroup(GroupTag.OPERATION).add(b.charset("attributes-charset", "utf-8"),
                                                 b.language("attributes-natural-language", "en")),
                IppGroup(GroupTag.JOB).add(b.mime_type("document-format", "application/pdf")),
            ], self.document))
            writer.write(conn.send(h11.Response(status_code=200, headers=[
                ("Content-Type", "application/ipp"), ("Content-Length", str(len(answer)))])))
            if served == 2:
                writer.write(conn.send(h11.Data(data=answer[:len(answer) // 2])))
                await writer.drain()
                await asyncio.sleep(0.3)  # the client reads the half before the reset
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            writer.write(conn.send(h11.Data(data=answer)) + conn.send(h11.EndOfMessage()))
            await writer.drain()
            conn.start_next_cycle()


async def test_a_document_cut_off_on_a_reused_connection_is_read_again_whole() -> None:
    """The read is retried on a fresh connection, and the part already written is dropped:
    otherwise the spool holds half a document and then the whole one."""
    doc = pdf(2) + b"%" + b"x" * 300_000 + b"\n"  # past the 64 kB kept to decode attributes
    server = ResetsOnReuse(doc)
    listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening, IppClient(f"ipp://127.0.0.1:{port}/printers/q") as cups:
        first, second = io.BytesIO(), io.BytesIO()
        await cups.get_document(1, first, max_bytes=1 << 20)
        info = await cups.get_document(1, second, max_bytes=1 << 20)
    assert server.connections == 2
    assert first.getvalue() == second.getvalue() == doc
    assert info.size == len(doc)


# ----- counting ---------------------------------------------------------------------


async def test_pages_are_counted_once_per_job(cupsd: Cupsd, held_queue: str) -> None:
    """The second listing is answered from memory: the document is gone from CUPS by then.
    The same id with another creation time (CUPS reuses ids) is a new job, counted afresh."""
    job = await held(held_queue, pdf(6), copies=2)
    async with IppClient(held_queue) as cups:
        pages = DocumentPages(cups)
        started = time.perf_counter()
        assert await pages.pages(job) == 6
        took = time.perf_counter() - started
        cupsd.run("cancel", "-h", cupsd.host, "-x", str(job.id))
        with pytest.raises(IppRefused):
            await cups.get_document(job.id, io.BytesIO(), max_bytes=1 << 20)
        assert await pages.pages(job) == 6
        assert job.created_at is not None
        reused = JobInfo(**{**job.__dict__, "created_at": job.created_at + timedelta(hours=1)})
        assert await pages.pages(reused) is None
        await pages.close()
    print(f"downloaded and counted a {len(pdf(6))}-byte 6-page PDF in {took * 1000:.1f} ms")


async def test_formats_counted_and_not(held_queue: str) -> None:
    text = b"a line of text\n" * 130  # 3 pages of 60 lines
    jobs = [await held(held_queue, pdf(4)),
            await held(held_queue, postscript(7), fmt="application/postscript"),
            await held(held_queue, text, fmt="text/plain"),
            await held(held_queue, bytes(range(256)) * 8, fmt="application/octet-stream"),
            await held(held_queue, b"%PDF-1.7\n broken beyond repair", fmt="application/pdf")]
    async with IppClient(held_queue) as cups:
        pages = DocumentPages(cups)
        counts = await asyncio.gather(*(pages.pages(job) for job in jobs))
    assert counts == [4, 7, 3, None, None]


async def test_gzip_documents_are_unpacked_and_bombs_are_not(held_queue: str,
                                                             tmp_path: Path) -> None:
    plain = tmp_path / "three.pdf"
    plain.write_bytes(pdf(3))
    counted = print_gzip(held_queue, plain, "application/pdf")
    bomb = tmp_path / "bomb.txt"
    bomb.write_bytes(b"\n" * (3 << 20))  # 3 MB of newlines: 60 kB of it sent gzip
    too_big = print_gzip(held_queue, bomb, "text/plain")
    async with IppClient(held_queue) as cups:
        raw = io.BytesIO()
        await cups.get_document(counted, raw, max_bytes=1 << 20)
        assert raw.getvalue()[:2] == b"\x1f\x8b"  # CUPS keeps it as it came
        assert gzip.decompress(raw.getvalue()) == plain.read_bytes()
        pages = DocumentPages(cups, DocumentLimits(max_bytes=1 << 20))
        assert await pages.pages(await cups.job(counted)) == 3
        assert await pages.pages(await cups.job(too_big)) is None


async def test_too_large_or_too_slow_cannot_be_counted(held_queue: str) -> None:
    job = await held(held_queue, pdf(30))
    async with IppClient(held_queue) as cups:
        small = DocumentPages(cups, DocumentLimits(max_bytes=1000))
        assert await small.pages(job) is None
        hasty = DocumentPages(cups, DocumentLimits(timeout_s=1e-6))
        assert await hasty.pages(job) is None
        assert await DocumentPages(cups).pages(job) == 30
