"""The API client must never swallow a cancel of the task that uses it: the demo's Ctrl-C
cancels its story, and a story whose cancel was lost went on to the end
(tests/e2e/test_demo.py failed that way in CI under load)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from agent.api.client import ApiClient


async def _idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # a peer that never answers, until the client hangs up
    writer.close()


async def test_a_cancel_during_close_reaches_the_caller() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "api.sock")
        server = await asyncio.start_unix_server(_idle, path)
        try:
            client = await ApiClient.connect(path)
            closing = asyncio.create_task(client.close())
            await asyncio.sleep(0)  # it has cancelled its reader and waits for it
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
            quiet = await ApiClient.connect(path)
            await quiet.close()  # a plain close still ends quietly
        finally:
            server.close()
            await server.wait_closed()


async def test_a_cancel_with_the_answer_reaches_the_caller() -> None:
    """The answer and the cancel in one turn of the loop (white box: the race is set up
    through the client's table of pending calls, as no socket can time it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "api.sock")
        server = await asyncio.start_unix_server(_idle, path)
        try:
            client = await ApiClient.connect(path)
            calling = asyncio.create_task(client.call("printer.status"))
            await asyncio.sleep(0)  # it has sent the request and waits for the answer
            assert len(client._pending) == 1
            next(iter(client._pending.values())).set_result({"online": True})
            calling.cancel()
            with pytest.raises(asyncio.CancelledError):
                await calling
            await client.close()
        finally:
            server.close()
            await server.wait_closed()
