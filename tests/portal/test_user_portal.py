"""The user portal over HTTP: each section, the site's switches, the statement's bounds."""

from __future__ import annotations

import datetime as dt
import html
import re

from central.codes import CodeBook
from central.storage.records import Posting
from central.web.portal import (
    CODE_SELF_SERVICE,
    PRINTER_URI,
    SHOW_BALANCE,
    SHOW_DEVICES,
    SHOW_TRANSACTIONS,
)
from tests.portal.conftest import Web, csrf_of

COLUMNS = ["Date", "Transacted by", "Transaction type", "System note", "Comment", "Amount",
           "Balance"]


def _post(web: Web, user: str, amount: int, comment: str, days_ago: float = 0.0,
          pid: str | None = None) -> None:
    when = web.portal.now() - dt.timedelta(days=days_ago)
    posting = Posting(pid or f"p-{user}-{comment}-{days_ago}", user, amount, "admin",
                      "admin:root", "Balance adjustment", comment, occurred_at=when)
    assert web.ledger().post([posting])[0].status == "applied"


def test_home_shows_balance_and_access_code_section(web: Web) -> None:
    page = web.signed_in("alice").get("/").text
    assert 'data-testid="balance">10.00 EUR' in page
    assert "You have no access code yet." in page
    assert "down to -5.00" in page


def test_each_section_hides_on_its_own(web: Web) -> None:
    c = web.signed_in("alice")
    ledger = web.ledger()
    for key, marker, path in ((SHOW_BALANCE, 'id="balance"', None),
                              (SHOW_TRANSACTIONS, 'href="/transactions"', "/transactions"),
                              (SHOW_DEVICES, 'href="/devices"', "/devices")):
        assert marker in c.get("/").text
        ledger.set_setting(key, "no")
        home = c.get("/").text
        assert marker not in home
        others = {SHOW_BALANCE: 'id="balance"', SHOW_TRANSACTIONS: 'href="/transactions"',
                  SHOW_DEVICES: 'href="/devices"'}
        for other_key, other_marker in others.items():
            if other_key != key:
                assert other_marker in home, f"hiding {key} hid {other_key} too"
        if path:
            hidden = c.get(path)
            assert hidden.status_code == 404 and "does not show this page" in hidden.text
        ledger.set_setting(key, None)


def test_statement_has_seven_columns_own_rows_last_90_days_at_most_100(web: Web) -> None:
    for i in range(105):
        _post(web, "alice", 1, f"a{i}", days_ago=i * 0.5)  # 0 .. 52 days ago
    _post(web, "alice", 7, "too old", days_ago=91)
    _post(web, "bob", 3, "bob's own")
    c = web.signed_in("alice")
    page = c.get("/transactions?user=bob").text  # a user name in the URL changes nothing
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", page)
    assert headers == COLUMNS
    rows = re.findall(r"<tr><td data-label=\"Date\">", page)
    assert len(rows) == 100
    assert "bob&#39;s own" not in page and "bob's own" not in page
    assert "too old" not in page
    # newest first: the opening balance (made at seeding), then a0 .. a98
    assert "Initial balance" in page and ">a0<" in page and ">a98<" in page
    assert ">a99<" not in page


def test_html_in_comments_and_names_is_escaped(web: Web) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _post(web, "alice", 5, evil)
    web.ledger().update_account("alice", display_name=evil)
    c = web.signed_in("alice")
    for page in (c.get("/").text, c.get("/transactions").text):
        assert "<script>alert" not in page and "<img src=x" not in page
    assert html.escape(evil) in c.get("/transactions").text.replace("&#34;", "&quot;")


def test_new_access_code_is_shown_once_and_works(web: Web, codes: CodeBook) -> None:
    c = web.signed_in("alice")
    page = web.post(c, "/", "/code", {}).text
    code = re.search(r'data-testid="new-code">(\d+)<', page)
    assert code, page
    found = web.ledger().code_hash_for_tag(codes.lookup_tag(code.group(1)))
    assert found is not None and found[0] == "alice" and codes.verify(found[1], code.group(1))
    again = c.get("/").text
    assert code.group(1) not in again and "nobody, not even an administrator" in again


def test_site_can_forbid_changing_the_code_here(web: Web) -> None:
    web.ledger().set_setting(CODE_SELF_SERVICE, "no")
    c = web.signed_in("alice")
    home = c.get("/").text
    assert 'action="/code"' not in home and "Ask your administrator" in home
    r = c.post("/code", data={"csrf": csrf_of(home)})
    assert r.status_code == 403
    assert web.portal.queries.account("alice").has_code is False


def test_device_set_up_gives_each_system_its_address_and_a_qr_code(web: Web) -> None:
    c = web.signed_in("alice")
    assert "has not set the printer address" in c.get("/devices").text
    web.ledger().set_setting(PRINTER_URI, "ipps://print.example.org/printers/pagetally")
    page = c.get("/devices").text
    assert "https://print.example.org:631/printers/pagetally" in page  # Windows
    assert ">print.example.org<" in page and ">printers/pagetally<" in page  # macOS, Android
    assert "-v ipps://print.example.org/printers/pagetally -m everywhere" in page  # Linux
    assert "Secure AirPrint" in page
    assert '<svg role="img" aria-label="QR code"' in page


def test_guides_cover_every_system_and_release(web: Web) -> None:
    page = web.signed_in("alice").get("/guides").text
    for key in ("windows", "macos", "linux", "ios", "android", "release"):
        assert f'id="guide-{key}"' in page
    assert "access code" in page


def test_security_headers(web: Web) -> None:
    r = web.signed_in("alice").get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
