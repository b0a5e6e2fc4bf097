"""`pagetally demo --no-panel --fast`, run as the README runs it, judged by what it prints:
its print jobs, its copy session on the simulated copier board, and central's own ledger.

The demo starts real processes (simulator, Mosquitto, central, agent); this test reads its
statement back and checks the arithmetic itself rather than trusting the demo's own "OK".
"""

from __future__ import annotations

import re
import signal
import subprocess
from decimal import Decimal
from pathlib import Path

import psutil

from tests.helpers import BIN, ROOT

TIMEOUT_S = 90
ROW = re.compile(r"^    (?P<job>\S.*?\.pdf)\s+(?P<printed>\d+) of (?P<total>\d+)\s+"
                 r"(?P<estimate>\d+\.\d\d)\s+(?P<charged>\d+\.\d\d)\s+(?P<refunded>\d+\.\d\d)"
                 r"\s+(?P<why>\S.*)$")
USER = re.compile(r"^  (?P<user>alice|bob) \((?P<display>[^)]+)\)$")
BALANCE = re.compile(r"^    (?P<which>opening|closing) balance\s+(?P<amount>\d+\.\d\d)( EUR)?$")
DEVICE_TOTAL = re.compile(r"OK: the device made (\d+) impressions during the demo;"
                          r" PageTally charged for (\d+) \((\d+) printed, (\d+) copied\)")
CENTRAL = re.compile(r"OK: central's balance for (alice|bob) is (\d+\.\d\d);")
COPY_ROW = re.compile(r"^    Copy session\s+(?P<pages>\d+) copies\s+-\s+(?P<charged>\d+\.\d\d)"
                      r"\s+-\s+(?P<why>\S.*)$")
COPY_SETTLED = re.compile(r"settled: (\d+) pages \((\d+) mono, (\d+) colour\), charged"
                          r" (\d+\.\d\d); the board counted (\d+), the device's counters (\d+)")
CENTRAL_ROW = re.compile(r"^      \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\s+(?P<type>\w+)"
                         r"\s+(?P<amount>-?\d+\.\d\d)\s+-?\d+\.\d\d  ")


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def run_demo() -> tuple[int, str]:
    proc = subprocess.Popen([str(BIN / "pagetally"), "demo", "--no-panel", "--fast"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the demo stops its children on SIGTERM
        out, _ = proc.communicate(timeout=30)
        raise AssertionError(f"the demo took over {TIMEOUT_S} s:\n{out}") from None
    return proc.returncode, out


def parse_statement(out: str) -> dict[str, dict[str, object]]:
    users: dict[str, dict[str, object]] = {}
    current: dict[str, object] | None = None
    section = out.split("Statement: charges and refunds per user", 1)[1]
    section = section.split("The printer's own counters", 1)[0]
    for line in section.splitlines():
        if m := USER.match(line):
            current = users.setdefault(m["user"], {"rows": []})
        elif current is not None and (m := BALANCE.match(line)):
            current[m["which"]] = cents(m["amount"])
        elif current is not None and (m := ROW.match(line)):
            current["rows"].append(m.groupdict())  # type: ignore[attr-defined]
        elif current is not None and (m := COPY_ROW.match(line)):
            current.setdefault("copies", []).append(m.groupdict())  # type: ignore[attr-defined]
    return users


def central_rows(out: str) -> dict[str, list[tuple[str, int]]]:
    """(type, amount) of each transaction `pagetally central show <user>` printed."""
    rows: dict[str, list[tuple[str, int]]] = {}
    for part in out.split("$ pagetally central show ")[1:]:
        name = part.split(" ", 1)[0]
        rows[name] = [(m["type"], cents(m["amount"])) for line in part.splitlines()
                      if (m := CENTRAL_ROW.match(line))]
    return rows


def test_demo_runs_the_whole_story_and_the_money_adds_up() -> None:
    code, out = run_demo()
    assert code == 0, out
    assert "accounts on central, over MQTT" in out, out
    assert "MISMATCH" not in out, out
    assert "Print denied: balance 2.00, job costs 6.00" in out
    assert "operator clears the jam" in out

    users = parse_statement(out)
    assert set(users) == {"alice", "bob"}, out
    rows = {r["job"]: r for u in users.values() for r in u["rows"]}  # type: ignore[attr-defined]
    assert set(rows) == {"Quarterly report.pdf", "Holiday photos.pdf", "Thesis draft.pdf"}

    jam = rows["Thesis draft.pdf"]
    assert (jam["printed"], jam["total"], jam["charged"], jam["refunded"], jam["why"]) == (
        "3", "8", "0.30", "0.50", "Paper jam at page 3")
    normal = rows["Quarterly report.pdf"]
    assert (normal["printed"], normal["charged"], normal["refunded"]) == ("5", "0.50", "0.00")
    cancel = rows["Holiday photos.pdf"]
    assert 0 < int(cancel["printed"]) < int(cancel["total"]) == 12
    assert cancel["why"].startswith("Canceled by you")
    assert cents(cancel["charged"]) == 50 * int(cancel["printed"])  # colour, 0.50 a page

    [copies] = users["alice"]["copies"]  # type: ignore[misc]
    assert "copies" not in users["bob"]
    settled = COPY_SETTLED.search(out)
    assert settled is not None, out
    assert settled.groups() == ("6", "4", "2", "1.40", "6", "6")  # 4 × 0.10 + 2 × 0.50
    assert (copies["pages"], copies["charged"], copies["why"]) == ("6", "1.40",
                                                                   "4 mono, 2 colour")
    assert "someone tries to copy after Stop: the copier refuses" in out

    for name, u in users.items():
        charged = sum(cents(r["charged"]) for r in u["rows"])  # type: ignore[attr-defined]
        charged += sum(cents(c["charged"]) for c in u.get("copies", []))  # type: ignore[attr-defined]
        assert u["opening"] - charged == u["closing"], (name, u)  # type: ignore[operator]
        for r in u["rows"]:  # type: ignore[attr-defined]
            assert cents(r["estimate"]) == cents(r["charged"]) + cents(r["refunded"]), r

    printed_total = sum(int(r["printed"]) for r in rows.values())
    device = DEVICE_TOTAL.search(out)
    assert device is not None, out
    assert tuple(int(g) for g in device.groups()) == (
        printed_total + 6, printed_total + 6, printed_total, 6)

    central = {m[1]: cents(m[2]) for m in CENTRAL.finditer(out)}
    assert central == {name: u["closing"] for name, u in users.items()}, out
    at_central = central_rows(out)  # central's own listing: the copy session once, in full
    assert [a for t, a in at_central["alice"] if t == "copy"] == [-140], out
    assert [t for t, _ in at_central["bob"]] == ["refund", "print", "adjustment"], out
    assert re.search(r"OK: central's ledger holds alice's copy session \S+ once: -1\.40;", out)

    assert_cleaned_up(out)


def assert_cleaned_up(out: str) -> None:
    """The temp folder is gone and no process runs in it (every child's cwd is that folder)."""
    found = re.search(r"in (/\S+pagetally-demo-\S+?), and stops", out)
    assert found is not None, out
    workdir = found[1]
    assert not Path(workdir).exists(), "the demo left its temp folder behind"
    leftovers = [p.info["cmdline"] for p in psutil.process_iter(["cwd", "cmdline"])
                 if (p.info["cwd"] or "").startswith(workdir)
                 or workdir in " ".join(p.info["cmdline"] or [])]
    assert leftovers == [], f"processes still running: {leftovers}"


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches a program started from a terminal. A test run started in the
    background of a script ignores SIGINT, and its children inherit that (a demo started so
    would rightly ignore it too), so the demo gets the terminal's default back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_mid_print_stops_every_process() -> None:
    proc = subprocess.Popen([str(BIN / "pagetally"), "demo", "--no-panel", "--fast"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, preexec_fn=_as_from_a_terminal)
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:  # ends at EOF if the demo dies: the asserts below say so
            seen.append(line)
            if line.strip().startswith("page 1 of"):
                proc.send_signal(signal.SIGINT)
                break
        out = "".join(seen) + proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert "Interrupted: stopping everything." in out
    assert_cleaned_up(out)
