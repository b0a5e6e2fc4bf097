"""The agent side of the local API: dispatch requests, push notifications to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.api import protocol
from agent.api.protocol import ApiError

log = logging.getLogger("pagetally.api")

Method = Callable[[dict[str, Any]], Awaitable[Any]]


class ApiServer:
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.methods: dict[str, Method] = {}
        self._subscribers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    def register(self, name: str, method: Method) -> None:
        self.methods[name] = method

    async def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.socket_path), limit=protocol.MAX_LINE
        )
        os.chmod(self.socket_path, 0o660)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in list(self._subscribers):
            writer.close()

    def notify(self, method: str, params: Any) -> None:
        """Push to every subscriber; a slow or gone subscriber is dropped, never waited on."""
        line = protocol.notification(method, params)
        for writer in list(self._subscribers):
            if writer.is_closing() or writer.transport.get_write_buffer_size() > 1 << 20:
                self._subscribers.discard(writer)
                continue
            writer.write(line)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(await self._handle(line, writer))
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log.info("API client dropped: %s", exc)
        finally:
            self._subscribers.discard(writer)
            writer.close()

    async def _handle(self, line: bytes, writer: asyncio.StreamWriter) -> bytes:
        try:
            msg = json.loads(line)
        except ValueError:
            return protocol.error(None, ApiError("invalid-request", "request is not valid JSON",
                                                 code=protocol.PARSE_ERROR))
        req_id = msg.get("id") if isinstance(msg, dict) else None
        if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
            return protocol.error(req_id, ApiError("invalid-request", "not a JSON-RPC request",
                                                   code=protocol.INVALID_REQUEST))
        params = msg.get("params") or {}
        if not isinstance(params, dict):
            return protocol.error(req_id, ApiError("invalid-params", "params must be an object",
                                                   code=protocol.INVALID_PARAMS))
        name = msg["method"]
        if name == "subscribe":
            self._subscribers.add(writer)
            return protocol.result(req_id, {"ok": True})
        method = self.methods.get(name)
        if method is None:
            return protocol.error(req_id, ApiError("not-found", f"no method {name!r}",
                                                   code=protocol.METHOD_NOT_FOUND))
        try:
            return protocol.result(req_id, await method(params))
        except ApiError as exc:
            return protocol.error(req_id, exc)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("bad parameters for %s: %s", name, exc)
            return protocol.error(req_id, ApiError("invalid-params", f"bad parameters: {exc}",
                                                   code=protocol.INVALID_PARAMS))
