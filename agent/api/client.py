"""An async client of the agent's local API, used by the panel, `agent ctl` and tests."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from agent.api import protocol
from agent.api.protocol import ApiError

__all__ = ["ApiClient", "ApiError"]


class ApiClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._notes: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task = asyncio.create_task(self._read_loop())

    @classmethod
    async def connect(cls, socket_path: str) -> ApiClient:
        try:
            reader, writer = await asyncio.open_unix_connection(socket_path,
                                                                limit=protocol.MAX_LINE)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ApiError("agent-unreachable",
                           f"the agent is not running (no socket at {socket_path})") from exc
        return cls(reader, writer)

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = 30.0) -> Any:
        req_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        self._writer.write(protocol.request(method, params, req_id))
        await self._writer.drain()
        try:
            # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancel that
            # arrives together with the answer, and the caller then carries on
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(req_id, None)

    async def notifications(self) -> AsyncIterator[tuple[str, Any]]:
        while True:
            item = await self._notes.get()
            if item[0] == "":
                return
            yield item

    async def next_notification(self, method: str, timeout: float = 30.0) -> Any:
        """Wait for the next notification named `method`, skipping others."""
        async def wait() -> Any:
            while True:
                name, params = await self._notes.get()
                if name == "":
                    raise ApiError("agent-unreachable", "the agent closed the connection")
                if name == method:
                    return params

        async with asyncio.timeout(timeout):  # not wait_for: see `call`
            return await wait()

    async def _read_loop(self) -> None:
        try:
            while line := await self._reader.readline():
                msg = json.loads(line)
                if "id" in msg and msg.get("id") is not None and "method" not in msg:
                    future = self._pending.get(msg["id"])
                    if future is None or future.done():
                        continue
                    if "error" in msg:
                        future.set_exception(ApiError.from_json(msg["error"]))
                    else:
                        future.set_result(msg.get("result"))
                elif "method" in msg:
                    self._notes.put_nowait((msg["method"], msg.get("params")))
        except (ConnectionError, ValueError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ApiError("agent-unreachable",
                                                  "the agent closed the connection"))
            self._notes.put_nowait(("", None))

    async def close(self) -> None:
        self._writer.close()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            # the reader's cancel, which we asked for; but if the caller is being cancelled
            # too (Ctrl-C in the demo), that must go on, or the caller carries on regardless
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
