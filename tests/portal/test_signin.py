"""Sign-in through an invite link, sessions, sign-out, CSRF and guessing limits, over HTTP."""

from __future__ import annotations

import subprocess

from central.web.handler import SESSION_COOKIE
from tests.helpers import BIN
from tests.portal.conftest import PASSWORD, Web, csrf_of


def _set_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return "; ".join(v for k, v in response.headers.multi_items() if k == "set-cookie"
                     and v.startswith(SESSION_COOKIE))


def test_invite_link_sets_password_once_and_signs_in(web: Web) -> None:
    c = web.client()
    link = web.invite("alice").removeprefix(web.url)
    page = c.get(link)
    assert page.status_code == 200 and "Welcome, alice" in page.text
    r = c.post(link, data={"csrf": csrf_of(page.text), "password": PASSWORD,
                           "password2": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = _set_cookie(r).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "Alice Liddell" in c.get("/").text
    again = web.client().get(link)
    assert again.status_code == 404 and "already used or has expired" in again.text


def test_invite_expires(web: Web) -> None:
    link = web.invite("alice").removeprefix(web.url)
    web.clock.now += 72 * 3600 + 1
    assert web.client().get(link).status_code == 404


def test_short_password_is_refused_in_plain_words(web: Web) -> None:
    c = web.client()
    link = web.invite("alice").removeprefix(web.url)
    r = web.post(c, link, link, {"password": "short", "password2": "short"})
    assert r.status_code == 400 and "at least 10 characters" in r.text
    assert web.post(c, link, link, {"password": PASSWORD, "password2": PASSWORD}
                    ).status_code == 303  # the refused try did not use the link up


def test_secrets_are_stored_only_hashed(web: Web) -> None:
    link = web.invite("alice")
    token = link.rsplit("/", 1)[1]
    c = web.client()
    path = link.removeprefix(web.url)
    web.post(c, path, path, {"password": PASSWORD, "password2": PASSWORD})
    db = web.portal.accounts._db  # every row of the portal's tables, on either store
    dump = "\n".join(repr(row) for table in ("web_users", "invites", "sessions",
                                             "signin_failures", "review_decisions")
                     for row in db.execute(f"SELECT * FROM {table}"))
    assert token not in dump and PASSWORD not in dump
    assert c.cookies[SESSION_COOKIE] not in dump
    assert "$argon2id$" in dump


def test_sign_in_and_sign_out(web: Web) -> None:
    web.signed_in("alice")
    c = web.client()
    r = web.post(c, "/signin", "/signin", {"username": "alice", "password": PASSWORD})
    assert r.status_code == 303
    old = c.cookies[SESSION_COOKIE]
    assert c.get("/").status_code == 200
    out = web.post(c, "/", "/signout", {})
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    stale = web.client()
    stale.cookies.set(SESSION_COOKIE, old)
    assert stale.get("/").status_code == 303  # the session is gone at the server too


def test_secure_cookie_when_served_over_https(web: Web) -> None:
    web.signed_in("alice")
    c = web.client()
    token = csrf_of(c.get("/signin").text)  # (a Secure cookie would not come back over http)
    web.portal.secure_cookies = True
    r = c.post("/signin", data={"csrf": token, "username": "alice", "password": PASSWORD})
    assert r.status_code == 303
    assert "secure" in _set_cookie(r).lower()


def test_post_without_csrf_token_is_refused(web: Web) -> None:
    c = web.signed_in("alice")
    for action in ("/signout", "/code"):
        r = c.post(action, data={})
        assert r.status_code == 403 and "did not come from this site" in r.text
    assert c.get("/").status_code == 200  # still signed in: sign-out without token refused
    assert web.portal.queries.account("alice").has_code is False
    bad = c.post("/code", data={"csrf": "not-the-token"})
    assert bad.status_code == 403
    other_site = c.post("/code", data={"csrf": csrf_of(c.get("/").text)},
                        headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    anon = web.client()
    assert anon.post("/signin", data={"username": "alice", "password": PASSWORD}
                     ).status_code == 403


def test_guessing_is_slowed_then_locked(web: Web) -> None:
    web.signed_in("alice")
    c = web.client()

    def attempt(password: str):  # type: ignore[no-untyped-def]
        return web.post(c, "/signin", "/signin", {"username": "alice", "password": password})

    for _ in range(3):
        assert attempt("wrong guess!").status_code == 401
    slowed = attempt(PASSWORD)  # even the right password waits now
    assert slowed.status_code == 429 and "wait 2 seconds" in slowed.text
    assert slowed.headers["Retry-After"] == "2"
    waits = []
    for _ in range(7):
        r = attempt("wrong guess!")
        waits.append(r.headers.get("Retry-After"))
        web.clock.now += 61
        assert attempt("wrong guess!").status_code == 401
    assert waits[:4] == ["2", "4", "8", "16"]  # each failure doubles the wait
    locked = attempt(PASSWORD)
    assert locked.status_code == 429 and "locked" in locked.text
    web.clock.now += 900
    assert attempt(PASSWORD).status_code == 303


def test_cli_invite_prints_a_working_link(web: Web) -> None:
    db = web.portal.ledger_url
    out = subprocess.run([str(BIN / "pagetally"), "central", "user", "invite", "bob", "--db", db,
                          "--url", web.url], capture_output=True, text=True, check=True).stdout
    link = out.strip().splitlines()[-1]
    assert link.startswith(f"{web.url}/invite/")
    assert web.client().get(link.removeprefix(web.url)).status_code == 200
    unknown = subprocess.run([str(BIN / "pagetally"), "central", "user", "invite", "carol",
                              "--db", db, "--url", web.url], capture_output=True, text=True)
    assert unknown.returncode == 1 and "there is no user 'carol'" in unknown.stderr
