"""The agent side of the local API: dispatch requests, push notifications to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.api import protocol
from agent.api.methods import SUBSCRIBE, Method, Notification, P, R, T
from agent.api.payloads import Ok
from agent.api.protocol import ApiError

log = logging.getLogger("pagetally.api")

Handler = Callable[[Any], Awaitable[Any]]


class ApiServer:
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.methods: dict[str, tuple[Method[Any, Any], Handler]] = {}
        self._subscribers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    def register(self, method: Method[P, R], handler: Callable[[P], Awaitable[R]]) -> None:
        """Serve `method` with `handler`, which gets its params decoded and checked."""
        self.methods[method.name] = (method, handler)

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

    def notify(self, note: Notification[T], params: T) -> None:
        """Push to every subscriber; a slow or gone subscriber is dropped, never waited on."""
        line = protocol.notification(note.name, params)
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
            req = protocol.parse_request(line)
        except ApiError as exc:
            log.info("refused a request: %s", exc.message)
            return protocol.error(protocol.request_id(line), exc)
        found = self.methods.get(req.method)
        try:
            if req.method == SUBSCRIBE.name:
                protocol.parse_params(SUBSCRIBE, req.params)
                self._subscribers.add(writer)
                return protocol.result(req.id, Ok())
            if found is None:
                raise ApiError("not-found", f"The agent has no method {req.method!r}",
                               code=protocol.METHOD_NOT_FOUND)
            method, handler = found
            return protocol.result(req.id, await handler(protocol.parse_params(method,
                                                                               req.params)))
        except ApiError as exc:
            if exc.code in (protocol.METHOD_NOT_FOUND, protocol.INVALID_PARAMS):
                log.info("refused %s: %s", req.method, exc.message)
            return protocol.error(req.id, exc)
        except (KeyError, TypeError, ValueError):  # params were checked: this is our bug
            log.exception("%s failed", req.method)
            return protocol.error(req.id, ApiError(
                "internal", f"The agent could not answer {req.method}; the reason is in its log",
                code=protocol.INTERNAL_ERROR))
