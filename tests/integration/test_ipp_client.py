"""The agent's IPP client against the simulator, and against servers that misbehave."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from aiohttp import web

from drivers.ipp.client import IppClient
from drivers.ipp.errors import IppProtocolError, IppRefused, IppUnreachable
from drivers.ipp.models import JobInfo, JobState, PrinterState
from drivers.ipp.tags import Status
from simulator.client import SimClient
from tests.data.ipp_samples import pdf
from tests.helpers import SimHandle, free_port, serve_ipp


@pytest.fixture
async def client(sim: SimHandle) -> AsyncIterator[IppClient]:
    async with IppClient(sim.ipp, timeout=5.0) as ipp:
        yield ipp


async def _wait(client: IppClient, job_id: int, done: Callable[[JobInfo], bool],
                timeout: float = 20.0) -> JobInfo:
    deadline = time.monotonic() + timeout
    while True:
        job = await client.job(job_id)
        if done(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} stuck: {job}"
        await asyncio.sleep(0.02)


async def test_held_jobs_per_user_release_and_counters(client: IppClient,
                                                       sim_client: SimClient) -> None:
    a1 = await client.print_job(pdf(2), name="thesis", user="alice", copies=2,
                                sides="two-sided-long-edge", color=True)
    a2 = await client.print_job(pdf(1), name="memo", user="alice")
    b1 = await client.print_job(pdf(1), name="bob's", user="bob")
    assert [j.id for j in await client.held_jobs("alice")] == [a1, a2]
    assert [j.id for j in await client.held_jobs()] == [a1, a2, b1]
    assert await client.held_jobs("carol") == []

    held = await client.job(a1)
    assert (held.name, held.user, held.state) == ("thesis", "alice", JobState.PENDING_HELD)
    assert (held.impressions, held.copies) == (4, 2)  # 2 pages x 2 copies
    assert (held.sides, held.color, held.hold_until) == ("two-sided-long-edge", True,
                                                         "indefinite")
    assert held.media == "iso_a4_210x297mm"
    assert isinstance(held.created_at, datetime) and held.processing_at is None
    assert not held.terminal

    before = await client.printer()
    await client.release(a1)
    done = await _wait(client, a1, lambda j: j.terminal)
    assert done.state == JobState.COMPLETED
    assert (done.impressions_completed, done.sheets_completed) == (4, 2)
    assert "job-completed-successfully" in done.state_reasons
    assert isinstance(done.completed_at, datetime) and done.completed_at >= done.created_at

    after = await client.printer()
    truth = sim_client.counters()
    assert after.impressions_completed == before.impressions_completed + 4  # type: ignore[operator]
    assert (after.impressions_mono, after.impressions_color) == (truth["true_mono"],
                                                                 truth["true_color"])
    assert after.impressions_color == before.impressions_color + 4  # type: ignore[operator]
    assert after.name == "pagetally-sim" and after.make_model
    assert after.up_time is not None and after.up_time >= 1
    completed = await client.jobs("completed", user="alice")
    assert [j.id for j in completed] == [a1]


async def test_job_progress_while_jammed_then_cleared(client: IppClient,
                                                      sim_client: SimClient) -> None:
    job_id = await client.print_job(pdf(5), name="long", user="dana")
    sim_client.job_faults(job_id, jam_at=3)
    await client.release(job_id)
    stopped = await _wait(client, job_id, lambda j: j.state == JobState.PROCESSING_STOPPED)
    assert stopped.impressions_completed == 3
    assert "media-jam-error" in stopped.state_reasons
    assert isinstance(stopped.processing_at, datetime)
    printer = await client.printer()
    assert printer.state == PrinterState.STOPPED
    assert "media-jam-error" in printer.state_reasons
    assert "jam" in printer.state_message.lower()
    sim_client.clear()
    done = await _wait(client, job_id, lambda j: j.terminal)
    assert (done.state, done.impressions_completed) == (JobState.COMPLETED, 5)


async def test_cancel_and_refusals_carry_the_status_message(client: IppClient) -> None:
    job_id = await client.print_job(pdf(1), name="oops", user="erin")
    await client.cancel(job_id)
    job = await client.job(job_id)
    assert job.state == JobState.CANCELED and job.terminal
    with pytest.raises(IppRefused) as refused:
        await client.cancel(job_id)
    assert refused.value.status == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert f"job {job_id}" in (refused.value.status_message or "")
    assert "Cancel-Job" in str(refused.value) and "not-possible" in str(refused.value)
    with pytest.raises(IppRefused) as missing:
        await client.job(9999)
    assert missing.value.status == Status.CLIENT_ERROR_NOT_FOUND
    with pytest.raises(IppRefused, match="not-possible"):
        await client.release(job_id)


async def test_connection_refused_is_unreachable() -> None:
    async with IppClient(f"ipp://127.0.0.1:{free_port()}/ipp/print", timeout=2.0) as ipp:
        with pytest.raises(IppUnreachable, match="cannot connect"):
            await ipp.printer()


async def test_silent_server_times_out() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(30)
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with IppClient(f"ipp://127.0.0.1:{port}/ipp/print", timeout=0.5) as ipp:
            started = time.monotonic()
            with pytest.raises(IppUnreachable, match=r"did not answer within 0\.5 s"):
                await ipp.jobs()
            assert time.monotonic() - started < 3
    finally:
        server.close()


@pytest.mark.parametrize(("reply", "words"), [
    (lambda: web.Response(body=b"\x02\x00\x00\x00junk", content_type="application/ipp"),
     "malformed IPP answer"),
    (lambda: web.Response(body=b"<html>hi</html>", content_type="text/html"), "text/html"),
    (lambda: web.Response(status=500, text="boom"), "HTTP 500"),
])
async def test_garbage_answers_are_protocol_errors(reply: Callable[[], web.Response],
                                                   words: str) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        return reply()

    runner, uri = await serve_ipp(handler)
    try:
        async with IppClient(uri, timeout=2.0) as ipp:
            with pytest.raises(IppProtocolError, match=words):
                await ipp.printer()
    finally:
        await runner.cleanup()


async def test_non_http_junk_is_a_protocol_error() -> None:
    async def junk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"\x00\x01garbage that is not HTTP\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(junk, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with IppClient(f"ipp://127.0.0.1:{port}/ipp/print", timeout=2.0) as ipp:
            with pytest.raises(IppProtocolError, match="malformed HTTP"):
                await ipp.held_jobs()
    finally:
        server.close()
