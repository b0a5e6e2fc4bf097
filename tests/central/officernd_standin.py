"""A local stand-in for the OfficeRnD API v2, built from its public reference.

Serves what central uses: the client-credentials token endpoint, and members, companies and
fees of one organisation as cursor pages of at most 50 (`$limit`, `$cursorNext`, answers
`{results, cursorNext, cursorPrev, rangeStart, rangeEnd}`), plus fee creation. Tokens expire;
faults are queued per path (429 with Retry-After, 5xx), and a fee can be booked with its
answer lost (the connection closed instead), as happens when a network drops.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_PAGE = 50


@dataclass
class Fault:
    path: str
    status: int
    retry_after: str | None = None


@dataclass
class StandIn:
    org: str = "acme"
    client_id: str = "pagetally-test"
    client_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    token_ttl_s: int = 3600
    companies: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    fees: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lose_fee_answers: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    _tokens: dict[str, float] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # test controls ------------------------------------------------------------------------

    def start(self) -> StandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,),
                         name="officernd-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def fail(self, path: str, status: int, times: int = 1, retry_after: str | None = None
             ) -> None:
        self.faults.extend(Fault(path, status, retry_after) for _ in range(times))

    def add_company(self, cid: str, name: str) -> None:
        self.companies.append({"_id": cid, "name": name})

    def add_member(self, mid: str, name: str, email: str, company: str | None = None,
                   status: str = "active", location: str | None = None,
                   tags: list[str] | None = None) -> None:
        self.members.append({"_id": mid, "name": name, "email": email, "company": company,
                             "status": status, "location": location, "tags": tags or []})

    # what the handler calls ---------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl_s
        return {"access_token": token, "token_type": "Bearer",
                "expires_in": self.token_ttl_s - 1, "scope": "flex.community.members.read"}

    def token_ok(self, header: str) -> bool:
        token = header.removeprefix("Bearer ")
        with self._lock:
            until = self._tokens.get(token)
        return until is not None and time.monotonic() < until

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.path in path:
                    return self.faults.pop(i)
        return None


def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    limit = min(int(query.get("$limit", [str(MAX_PAGE)])[0]), MAX_PAGE)
    cursor = query.get("$cursorNext", [""])[0]
    start = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
    chunk = items[start:start + limit]
    end = start + len(chunk)
    nxt = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    prev = base64.urlsafe_b64encode(str(max(0, start - limit)).encode()).decode() if start \
        else None
    return {"results": chunk, "cursorNext": nxt, "cursorPrev": prev,
            "rangeStart": start + 1 if chunk else 0, "rangeEnd": end}


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `requests` instead."""

    def _reply(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        st = self.owner
        st.requests[f"{method} {re.sub(r'^/api/v2/organizations/[^/]+', '', parts.path)}"] += 1
        fault = st.take_fault(parts.path)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._reply(fault.status, {"message": "injected fault"}, headers)
        if parts.path == "/oauth/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "client_credentials":
                return self._reply(400, {"error": "unsupported_grant_type"})
            if (form.get("client_id"), form.get("client_secret")) != (st.client_id,
                                                                        st.client_secret):
                return self._reply(401, {"error": "invalid_client"})
            return self._reply(200, st.issue_token())
        m = re.fullmatch(r"/api/v2/organizations/([^/]+)/(members|companies|fees)", parts.path)
        if not m:
            return self._reply(404, {"message": "no such endpoint"})
        if not st.token_ok(self.headers.get("Authorization", "")):
            return self._reply(401, {"message": "the token is invalid or expired"})
        if m.group(1) != st.org:
            return self._reply(404, {"message": f"organization {m.group(1)} not found"})
        query = parse_qs(parts.query)
        what = m.group(2)
        if method == "GET":
            items = {"members": st.members, "companies": st.companies, "fees": st.fees}[what]
            if "member" in query:
                items = [i for i in items if i.get("member") == query["member"][0]]
            return self._reply(200, _page(items, query))
        if method == "POST" and what == "fees":
            raw = json.loads(body, parse_float=Decimal)
            if not isinstance(raw.get("price"), Decimal | int) or not raw.get("member"):
                return self._reply(400, {"message": "price and member are required"})
            fee = {"_id": st.next_id("fee"), "name": raw.get("name", ""),
                   "price": str(raw["price"]), "quantity": raw.get("quantity", 1),
                   "date": raw.get("date"), "member": raw["member"],
                   "company": raw.get("company")}
            with st._lock:
                st.fees.append(fee)
                lose = st.lose_fee_answers > 0
                st.lose_fee_answers -= lose
            if lose:
                self.close_connection = True
                self.connection.shutdown(2)  # booked, but the answer never arrives
                return None
            return self._reply(201, fee)
        return self._reply(405, {"message": "method not allowed"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")
