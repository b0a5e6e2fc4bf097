"""Fixtures for the portal: a seeded ledger, the web app on a real socket (uvicorn in a
thread of the test process, so its clock can be moved), and an HTTP client that signs in."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from central import admin
from central.codes import CodeBook
from central.storage.ledger import SqlLedger
from central.storage.portal_accounts import Role
from central.web.auth import SignInPolicy
from central.web.pages_auth import issue_invite
from central.web.portal import Portal
from central.web.server import WebServer

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def seed(db: Path | str) -> None:
    ledger = SqlLedger(db)
    try:
        admin.add_user(ledger, "alice", "Alice Liddell", 1000, restricted=True,
                       credit_limit=500, groups=["staff"])
        admin.add_user(ledger, "bob", "Bob Builder", 2500, restricted=False, credit_limit=0,
                       groups=[])
    finally:
        ledger.close()


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@dataclass
class Web:
    portal: Portal
    server: WebServer
    clock: Clock
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def ledger(self) -> SqlLedger:
        return self.portal.ledger()

    def invite(self, username: str, role: Role = "user") -> str:
        return issue_invite(self.portal.accounts, username, role, self.url, self.clock())

    def client(self) -> httpx.Client:
        c = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self.clients.append(c)
        return c

    def post(self, c: httpx.Client, page: str, action: str, data: dict[str, str]
             ) -> httpx.Response:
        """Open `page`, take its CSRF token, post the form to `action`."""
        token = csrf_of(c.get(page).text)
        return c.post(action, data={"csrf": token, **data})

    def signed_in(self, username: str, role: Role = "user") -> httpx.Client:
        c = self.client()
        link = self.invite(username, role).removeprefix(self.url)
        r = self.post(c, link, link, {"password": PASSWORD, "password2": PASSWORD})
        assert r.status_code == 303, r.text
        return c


@pytest.fixture(params=["sqlite", "postgres"])
def web(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Web]:
    """The portal on each store: a SQLite file (its sign-in tables in a file beside it), or a
    PostgreSQL database holding both."""
    db: Path | str = tmp_path / "ledger.db"
    portal_db: Path | str = tmp_path / "ledger.db.portal"
    if request.param == "postgres":
        db = portal_db = request.getfixturevalue("postgres").new_database("portal")
    seed(db)
    clock = Clock()
    portal = Portal.open(db, portal_db, tmp_path / "ledger.db.secret",
                         clock=clock, policy=SignInPolicy())
    server = WebServer(portal, "127.0.0.1", 0)
    server.start()
    w = Web(portal, server, clock)
    yield w
    for c in w.clients:
        c.close()
    server.stop()


@pytest.fixture
def codes(tmp_path: Path) -> CodeBook:
    return CodeBook.from_file(tmp_path / "ledger.db.secret")
