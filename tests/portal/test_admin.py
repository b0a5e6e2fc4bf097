"""The admin console over HTTP: role checks, users, the log and its CSV, the review queue,
devices from a real Mosquitto's retained topics, quotas and fee reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from central.storage.records import Quota
from central.web.app import routes
from central.web.devices import DeviceWatch
from contract import JobInfo, TxnPayload
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of
from tests.portal.conftest import Web, csrf_of


def device_charge(web: Web, user: str, amount: int, *, review: bool, note: str,
                  device: str = "dev-a", job: str = "job-1") -> str:
    txn = TxnPayload(uuid.uuid4(), "s1", device, "print", user, -amount, "EUR",
                     dt.datetime.now(dt.UTC), JobInfo(job, "report.pdf", "MFD-1", pages=9,
                                                      estimate=amount, review=review),
                     note=note)
    assert web.ledger().apply_txn(txn, device).status == "applied"
    return str(txn.txn_id)


def admin_paths() -> list[tuple[str, str]]:
    out = []
    for r in routes():
        path = getattr(r, "path", "")
        if path.startswith("/admin"):
            concrete = re.sub(r"\{[^}]+\}", "alice", path)
            out += [(m, concrete) for m in sorted(r.methods or ()) if m != "HEAD"]
    return out


def test_admin_pages_refuse_non_admins(web: Web) -> None:
    user = web.signed_in("alice")
    token = csrf_of(user.get("/").text)
    paths = admin_paths()
    assert len(paths) >= 20
    for method, path in paths:
        r = user.request(method, path, data={"csrf": token} if method == "POST" else None)
        assert r.status_code == 403, (method, path)
        assert "for administrators" in r.text
    anon = web.client()
    assert anon.get("/admin/users").headers["location"] == "/signin?next=/admin/users"
    assert web.portal.queries.account("alice").balance == 1000  # nothing was adjusted


def test_user_cannot_reach_another_users_data_by_id(web: Web) -> None:
    device_charge(web, "bob", 300, review=False, note="bob's secret job")
    alice = web.signed_in("alice")
    for path in ("/transactions?user=bob", "/?user=bob", "/admin/users/bob",
                 "/admin/transactions?user=bob", "/admin/transactions.csv?user=bob"):
        assert "bob&#39;s secret job" not in alice.get(path).text, path
        assert "25.00" not in alice.get(path).text, path


def test_users_adjustment_limits_card_and_code(web: Web) -> None:
    a = web.signed_in("root", "admin")
    assert "alice" in a.get("/admin/users?q=Lidd").text and "bob" not in a.get(
        "/admin/users?q=Lidd").text
    page = "/admin/users/alice"
    assert web.post(a, page, page + "/adjust", {"amount": "2.50", "comment": ""}
                    ).status_code == 400  # a comment is required
    r = web.post(a, page, page + "/adjust", {"amount": "2.50", "comment": "<b>exam</b> week"})
    assert r.status_code == 200 and 'data-testid="balance">12.50' in r.text
    assert "&lt;b&gt;exam&lt;/b&gt; week" in r.text
    row = web.portal.queries.statement("alice", web.portal.now())[0]
    assert (row.amount, row.transacted_by, row.comment) == (250, "admin:root",
                                                            "<b>exam</b> week")
    web.post(a, page, page + "/limits", {"restricted": "", "credit_limit": "0"})
    assert web.portal.queries.account("alice").restricted is False
    bad = web.post(a, page, page + "/limits", {"restricted": "yes", "credit_limit": "1.234"})
    assert bad.status_code == 400 and "Credit limit" in bad.text
    web.post(a, page, page + "/card", {"card": "00 12-34"})
    assert web.portal.queries.account("alice").cards == ("1234",)
    taken = web.post(a, "/admin/users/bob", "/admin/users/bob/card", {"card": "1234"})
    assert taken.status_code == 400 and "already belongs to &#39;alice&#39;" in taken.text
    code = re.search(r'data-testid="new-code">(\d+)<',
                     web.post(a, page, page + "/code", {}).text)
    assert code and web.portal.queries.account("alice").has_code
    assert code.group(1) not in a.get(page).text


def test_log_filters_and_csv_export(web: Web) -> None:
    # notes with a space: one can never turn up inside a page's random CSRF token
    device_charge(web, "alice", 120, review=False, note="note one", device="dev-a")
    device_charge(web, "bob", 80, review=False, note="note two", device="dev-b", job="job-2")
    a = web.signed_in("root", "admin")
    page = a.get("/admin/transactions?device=dev-b").text
    assert "note two" in page and "note one" not in page
    page = a.get("/admin/transactions?type=print&user=alice").text
    assert "note one" in page and "Initial balance" not in page
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert "No transactions." in a.get(f"/admin/transactions?from={tomorrow}").text
    assert a.get("/admin/transactions?from=yesterday").status_code == 400
    r = a.get("/admin/transactions.csv?type=print")
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["username"], x["amount"], x["device"]) for x in rows] == [
        ("alice", "-1.20", "dev-a"), ("bob", "-0.80", "dev-b")]
    everything = list(csv.DictReader(io.StringIO(a.get("/admin/transactions.csv").text)))
    assert len(everything) == 4  # two opening balances and two charges


def test_review_refund_once_and_partial(web: Web) -> None:
    full = device_charge(web, "alice", 400, review=True,
                         note="SNMP counter delta 6, IPP job count 9; charged 9 pages")
    part = device_charge(web, "bob", 300, review=True, note="counter reset", job="job-2")
    device_charge(web, "bob", 100, review=False, note="settled exactly", job="job-3")
    a = web.signed_in("root", "admin")
    queue = a.get("/admin/review").text
    assert "SNMP counter delta 6" in queue and "settled exactly" not in queue
    r = web.post(a, "/admin/review", f"/admin/review/{full}/refund", {"comment": "jam"})
    assert r.status_code == 303
    assert web.portal.queries.account("alice").balance == 1000
    again = a.post(f"/admin/review/{full}/refund", data={"csrf": csrf_of(queue)})
    assert again.status_code == 409 and web.portal.queries.account("alice").balance == 1000
    web.post(a, "/admin/review", f"/admin/review/{part}/partial", {"amount": "1.00",
                                                                 "comment": "3 pages"})
    assert web.portal.queries.account("bob").balance == 2500 - 400 + 100
    too_much = web.post(a, "/admin/review", f"/admin/review/{part}/partial",
                        {"amount": "2.50"})
    assert too_much.status_code == 400
    web.post(a, "/admin/review", f"/admin/review/{part}/refund", {})
    assert web.portal.queries.account("bob").balance == 2500 - 100  # only the rest
    statement = web.signed_in("bob").get("/transactions").text
    assert "Partial refund of print charge" in statement and "3 pages" in statement


def test_schedule_shows_quotas_and_fee_reports(web: Web) -> None:
    ledger = web.ledger()
    ledger.add_quota(Quota("Staff top-up", "staff", "weekly", 500, at="06:00", weekday=0,
                           cap=2000, comment="weekly allowance"))
    now = dt.datetime.now(dt.UTC)
    ledger.claim_run("feerun:2026-03-02", "feerun", now, "me", now, 600)
    report = {"day": "2026-03-02", "off": False, "total": 734,
              "fees": [{"user": "ann@x.org", "member": "m0", "amount": 734,
                        "fee_id": "fee000001", "balance": 0, "run": "feerun:2026-03-02"}],
              "failed": [], "unlinked": [{"user": "walkin", "balance": -250}]}
    ledger.finish_run("feerun:2026-03-02", "me", json.dumps(report))
    a = web.signed_in("root", "admin")
    page = a.get("/admin/schedule").text
    assert "Staff top-up" in page and "add 5.00 up to 20.00" in page and "(Mon)" in page
    assert "1 fee(s), 7.34" in page
    detail = a.get("/admin/runs/feerun:2026-03-02").text
    assert "fee000001" in detail and "walkin" in detail
    groups = a.get("/admin/groups").text
    assert "staff" in groups and "Staff top-up" in groups


def test_portal_settings_form(web: Web) -> None:
    a = web.signed_in("root", "admin")
    bad = web.post(a, "/admin/settings", "/admin/settings",
                   {"portal.printer_uri": "http://not-ipp", "portal.show_balance": "yes"})
    assert bad.status_code == 400 and "is not a printer address" in bad.text
    web.post(a, "/admin/settings", "/admin/settings",
             {"portal.printer_uri": "ipp://10.0.0.5/ipp/print", "portal.show_devices": "yes"})
    s = web.portal.settings()
    assert s.printer_uri == "ipp://10.0.0.5/ipp/print"
    assert (s.show_balance, s.show_transactions, s.show_devices) == (False, False, True)


@pytest.fixture
def broker(tmp_path: Path):  # type: ignore[no-untyped-def]
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.kill()


def retain(broker: Mosquitto, device: str, kind: str, payload: str) -> None:
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-u", device, "-P",
                    password_of(device), "-q", "1", "-r", "-t",
                    f"pagetally/v1/s1/{device}/{kind}", "-m", payload], check=True)


def test_devices_from_retained_status_and_printer(web: Web, broker: Mosquitto) -> None:
    retain(broker, "dev-a", "status",
            '{"online": true, "version": "0.1.0", "since": "2026-03-02T08:00:00Z"}')
    retain(broker, "dev-a", "printer", '{"status": "idle", "alerts": ["Toner low"],'
            ' "counters": {"marker_life": 12345}}')
    retain(broker, "dev-b", "status",
            '{"online": false, "version": "0.1.0", "since": "2026-03-02T09:00:00Z"}')
    retain(broker, "dev-b", "printer", '{"status": 7}')
    watch = DeviceWatch("127.0.0.1", broker.port, CENTRAL_USER, password_of(CENTRAL_USER))
    watch.start()
    web.portal.devices = watch
    try:
        deadline = time.monotonic() + 10
        while len(watch.devices()) < 2 or not watch.devices()[1].problems:
            assert time.monotonic() < deadline, watch.devices()
            time.sleep(0.05)
        page = web.signed_in("root", "admin").get("/admin/devices").text
    finally:
        watch.stop()
    a_row, b_row = page.split("s1/dev-a")[1].split("s1/dev-b")
    assert "online" in a_row and "Toner low" in a_row and "marker_life 12345" in a_row
    assert "offline" in b_row and "the printer state is invalid" in b_row
