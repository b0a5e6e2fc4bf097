"""Closing an API client must not swallow a cancel of the task that closes it: the demo's
Ctrl-C cancels its story, and a story that was closing a client at that moment went on to
the end (tests/e2e/test_demo.py failed that way under load)."""

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
