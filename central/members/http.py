"""A small blocking JSON-over-HTTP client with keep-alive, for membership systems.

Central is not asyncio (see `central/service.py`), and a sync makes a few hundred requests
in a row, so one kept-alive connection from the standard library is enough and adds no
dependency. Errors come back as `HttpFailure` with the status, for the caller to word.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class HttpFailure(Exception):
    """No answer at all (connection refused, reset, timed out)."""


class JsonHttp:
    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r} is not an http(s) URL")
        self.base = base_url.rstrip("/")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._scheme == "https":
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout,
                    context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=self._timeout)
            self._conn.connect()
            # Small requests one after another: Nagle's algorithm would hold each for the
            # peer's delayed ACK (about 40 ms a request).
            self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, *, query: dict[str, str] | None = None,
                json_body: object = None, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        target = self._prefix + path + (f"?{urlencode(query)}" if query else "")
        sent = {"Accept": "application/json", **(headers or {})}
        body: bytes | None = None
        if json_body is not None:
            body, sent["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn = self._connection()
            conn.request(method, target, body=body, headers=sent)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            self.close()
            raise HttpFailure(f"{type(exc).__name__}: {exc}" if str(exc)
                              else type(exc).__name__) from exc
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode("utf-8", "replace")[:200]
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
