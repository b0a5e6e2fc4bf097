"""The portal in a real browser (Playwright + Debian's chromium) against a real central:
`pagetally central serve --web` with a real Mosquitto, a terminal's txns over MQTT, and the
admin's invite links from the command line. Also writes the README's screenshots."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from central import admin
from central.storage.ledger import SqlLedger
from central.storage.records import Quota
from contract import JobInfo, TxnPayload
from tests.central.mqtt_client import Device
from tests.helpers import BIN, ROOT, Child, spawn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of
from tests.portal.browser import DESKTOP, PHONE, chromium
from tests.portal.conftest import PASSWORD
from tests.portal.test_admin import retain

SHOTS = ROOT / "docs" / "screenshots" / "portal"


@dataclass
class Central:
    db: Path
    url: str
    child: Child

    def invite(self, user: str, *extra: str) -> str:
        out = subprocess.run([str(BIN / "pagetally"), "central", "user", "invite", user,
                              "--db", str(self.db), "--url", self.url, *extra],
                             capture_output=True, text=True, check=True).stdout
        return out.strip().splitlines()[-1]


def _seed(db: Path) -> None:
    ledger = SqlLedger(db)
    try:
        admin.add_user(ledger, "alice", "Alice Liddell", 1250, restricted=True,
                       credit_limit=500, groups=["Staff"])
        admin.add_user(ledger, "bob", "Bob <b>Builder</b>", 400, restricted=False,
                       credit_limit=0, groups=["Members"])
        ledger.add_quota(Quota("Staff monthly", "Staff", "monthly", 1000, at="06:00",
                               monthday=1, cap=3000, comment="monthly allowance"))
        ledger.set_setting("portal.printer_uri", "ipps://print.example.org/printers/pagetally")
        ledger.set_setting("timezone", "Europe/Berlin")
        admin.post(ledger, "alice", "adjustment", 500, note="Balance adjustment",
                   comment="exam week", by="admin:root")
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("broker")).start()
    yield b
    b.kill()


@pytest.fixture(scope="module")
def central(broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    root = tmp_path_factory.mktemp("central")
    db = root / "ledger.db"
    _seed(db)
    pw = root / "central.pw"
    pw.write_text(password_of(CENTRAL_USER))
    child = spawn([str(BIN / "pagetally"), "central", "serve", "--db", str(db),
                   "--mqtt-port", str(broker.port), "--username", CENTRAL_USER,
                   "--password-file", str(pw), "--web", "127.0.0.1:0"],
                  env={"PYTHONPATH": str(ROOT)})
    url = child.wait_line("WEB ").rstrip("/")
    child.wait_line("READY ")
    yield Central(db, url, child)
    child.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _charge(broker: Mosquitto, user: str, amount: int, name: str, *, review: bool,
            note: str) -> str:
    device = Device(broker, "dev-a")
    try:
        txn = TxnPayload(uuid.uuid4(), "s1", "dev-a", "print", user, -amount, "EUR",
                         dt.datetime.now(dt.UTC),
                         JobInfo(f"job-{uuid.uuid4().hex[:6]}", name, "MFD-1", pages=12,
                                 estimate=amount, review=review), note=note)
        txn_id = device.send(txn)
        assert device.wait_acks([txn_id])[txn_id].status == "applied"
    finally:
        device.close()
    return txn_id


def _accept(context: BrowserContext, link: str) -> Page:
    page = context.new_page()
    page.goto(link)
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    return page


@pytest.fixture(scope="module")
def admin_page(browser: Browser, central: Central) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = _accept(context, central.invite("root", "--admin"))
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    yield page
    context.close()


@pytest.fixture(scope="module")
def alice_page(browser: Browser, central: Central) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = _accept(context, central.invite("alice"))
    yield page
    context.close()


def test_sign_in_through_invite_link_then_with_password(browser: Browser,
                                                        central: Central) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = _accept(context, central.invite("bob"))
    expect(page.get_by_role("heading", name="Hello Bob <b>Builder</b>")).to_be_visible()
    page.get_by_role("button", name="Sign out bob").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User name").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("balance")).to_have_text("4.00 EUR")
    context.close()


def _set_portal(admin_page: Page, **shown: bool) -> None:
    admin_page.goto(admin_page.url.split("/admin")[0] + "/admin/settings")
    for key, on in shown.items():
        box = admin_page.locator(f'input[name="portal.{key}"]')
        box.check() if on else box.uncheck()
    admin_page.get_by_role("button", name="Save").click()
    expect(admin_page).to_have_url(re.compile(r"saved=1"))


def test_portal_sections_shown_and_hidden(admin_page: Page, alice_page: Page,
                                          central: Central) -> None:
    page = alice_page
    page.goto(central.url + "/")
    expect(page.get_by_test_id("balance")).to_have_text("17.50 EUR")
    nav = page.get_by_role("navigation")
    for name in ("Set up my devices", "Learn how to print", "Transactions"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    nav.get_by_role("link", name="Set up my devices").click()
    expect(page.locator("#setup-windows")).to_contain_text(
        "https://print.example.org:631/printers/pagetally")
    expect(page.locator(".qr svg")).to_be_visible()
    nav.get_by_role("link", name="Transactions").click()
    expect(page.locator("#statement tbody tr")).to_have_count(2)
    expect(page.locator("#statement")).to_contain_text("exam week")
    for hidden in ("show_balance", "show_transactions", "show_devices"):
        _set_portal(admin_page, **{k: k != hidden for k in ("show_balance",
                                                            "show_transactions",
                                                            "show_devices")})
        page.goto(central.url + "/")
        expect(page.get_by_test_id("balance")).to_have_count(
            0 if hidden == "show_balance" else 1)
        expect(nav.get_by_role("link", name="Transactions")).to_have_count(
            0 if hidden == "show_transactions" else 1)
        expect(nav.get_by_role("link", name="Set up my devices")).to_have_count(
            0 if hidden == "show_devices" else 1)
    _set_portal(admin_page, show_balance=True, show_transactions=True, show_devices=True)


def test_admin_refund_from_review_queue_reaches_the_user(admin_page: Page, alice_page: Page,
                                                         central: Central,
                                                         broker: Mosquitto) -> None:
    txn_id = _charge(broker, "alice", 360, "thesis.pdf", review=True,
                     note="SNMP counter delta 12, IPP job count 9, estimate 12; charged 12")
    admin_page.goto(central.url + "/admin/review")
    card = admin_page.locator(f"#review-{txn_id}")
    expect(card).to_contain_text("SNMP counter delta 12, IPP job count 9")
    card.get_by_role("button", name="Refund all that is left").click()
    expect(admin_page.locator(f"#review-{txn_id}")).to_contain_text("Given back so far: 3.60")
    alice_page.goto(central.url + "/transactions")
    first = alice_page.locator("#statement tbody tr").first
    expect(first).to_contain_text("Refund of print charge")
    expect(first).to_contain_text("admin:root")
    expect(first).to_contain_text("3.60")
    alice_page.goto(central.url + "/")
    expect(alice_page.get_by_test_id("balance")).to_have_text("17.50 EUR")


def test_csv_export_downloads_the_filtered_log(admin_page: Page, central: Central,
                                               tmp_path: Path) -> None:
    admin_page.goto(central.url + "/admin/transactions")
    admin_page.get_by_label("User").fill("alice")
    admin_page.get_by_label("Type").select_option("adjustment")
    admin_page.get_by_role("button", name="Filter").click()
    expect(admin_page.locator("#log tbody tr")).to_have_count(2)
    with admin_page.expect_download() as info:
        admin_page.get_by_role("link", name="Export these as CSV").click()
    path = tmp_path / "log.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(path.open()))
    assert sorted((r["username"], r["type"], r["amount"], r["comment"]) for r in rows) == [
        ("alice", "adjustment", "12.50", ""), ("alice", "adjustment", "5.00", "exam week")]


PAGES = [("signin", None, "/signin"), ("home", "alice", "/"),
         ("devices", "alice", "/devices"), ("guides", "alice", "/guides"),
         ("transactions", "alice", "/transactions"), ("admin-users", "root", "/admin/users"),
         ("admin-user", "root", "/admin/users/alice"), ("admin-groups", "root", "/admin/groups"),
         ("admin-log", "root", "/admin/transactions"), ("admin-review", "root", "/admin/review"),
         ("admin-devices", "root", "/admin/devices"), ("admin-schedule", "root",
                                                       "/admin/schedule"),
         ("admin-settings", "root", "/admin/settings")]


def test_every_page_renders_at_desktop_and_phone_size(admin_page: Page, alice_page: Page,
                                                      central: Central, broker: Mosquitto,
                                                      browser: Browser, tmp_path: Path) -> None:
    """Each page at 1280×800 and 390×844: no horizontal scrolling on the phone. With
    PAGETALLY_SCREENSHOTS=1 the pictures go to docs/screenshots/portal for the README."""
    _charge(broker, "bob", 240, "poster.pdf", review=True,
            note="IPP printer counter delta 0, SNMP counter reset; charged the estimate")
    retain(broker, "dev-a", "status",
            '{"online": true, "version": "0.1.0", "since": "2026-03-02T08:00:00Z"}')
    retain(broker, "dev-a", "printer", '{"status": "printing", "alerts": ["Toner low"],'
            ' "counters": {"marker_life": 48213, "ipp_impressions": 48213}}')
    retain(broker, "dev-b", "status",
            '{"online": false, "version": "0.1.0", "since": "2026-03-02T09:00:00Z"}')
    admin_page.goto(central.url + "/admin/devices")
    expect(admin_page.locator("#devices")).to_contain_text("Toner low")
    keep = os.environ.get("PAGETALLY_SCREENSHOTS") == "1"
    out = SHOTS if keep else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    by_user = {"alice": alice_page.context, "root": admin_page.context}
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        for name, who, path in PAGES:
            context = browser.new_context(viewport=size, storage_state=(
                by_user[who].storage_state() if who else None))
            page = context.new_page()
            response = page.goto(central.url + path)
            assert response is not None and response.status == 200, (name, response)
            if size is PHONE:
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (name, width)
            page.screenshot(path=str(out / f"{name}-{size_name}.png"), full_page=False)
            context.close()
    assert len(list(out.glob("*.png"))) >= 2 * len(PAGES)
