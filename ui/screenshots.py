"""Render every panel screen with sample data and save PNGs (docs/screenshots/<screen>.png).

A rendering tool, not a test: screens are fed sample data directly, no agent is involved.
Runs without a display (SDL offscreen + EGL). Usage:
    python -m ui.screenshots [--size 800x480] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from agent.api.payloads import (
    Account,
    Alert,
    CopyProgress,
    CopyResult,
    Counters,
    HeldJob,
    JobStatus,
    PrinterStatus,
    Release,
    Row,
    Session,
)
from ui.app import configure_kivy
from ui.config import PanelConfig, PanelSection
from ui.theme import parse_size

NOW = datetime.now().astimezone()
PRINTER = PrinterStatus(name="Library 2nd floor MFD", state="idle", reasons=[], alerts=[],
                        counters=Counters(snmp=None, ipp=None), problems=[], online=True,
                        copier=True, copy_enforced=True)
ALERTS = replace(PRINTER, state="stopped", online=False, alerts=[
    Alert(kind="jam", text="Paper jam in tray 2", help=""),
    Alert(kind="paper-out", text="Tray 1 is empty", help=""),
    Alert(kind="toner-low", text="Black toner low", help=""),
])
SESSION = Session(user="alice", display_name="Alice Example", balance=1000,
                  balance_text="10.00", offline=False, method="code", expires_in=60)


def _job(job_id: int, name: str, pages: int | None, copies: int, color: bool, duplex: bool,
         estimate: int, ago: timedelta) -> HeldJob:
    return HeldJob(id=job_id, name=name, submitted_at=(NOW - ago).isoformat(), pages=pages,
                   impressions=None if pages is None else pages * copies, copies=copies,
                   color=color, duplex=duplex, media="A4", estimate=estimate,
                   estimate_text=f"{estimate / 100:.2f}",
                   estimate_kind="deposit" if pages is None else "counted")


JOBS = [
    _job(11, "Quarterly report final v3.pdf", 12, 1, True, True, 600, timedelta(minutes=12)),
    _job(12, "Boarding pass", 1, 1, False, False, 10, timedelta(minutes=3)),
    _job(13, "Thesis chapter 4 - Methods and materials (draft for supervisor).docx", 38, 2,
         False, True, 760, timedelta(days=1, hours=2)),
    _job(14, "Label sheet (printer driver output)", None, 1, False, False, 200,
         timedelta(minutes=1)),
]
RELEASES = [Release(id=11, job_key="k11", estimate=600, estimate_text="6.00"),
            Release(id=12, job_key="k12", estimate=10, estimate_text="0.10")]
SETTLED = JobStatus(job_key="k12", id=12, name="Boarding pass", user="alice", state="settled",
                    printed=1, total=1, estimate=10, estimate_text="0.10", charged=10,
                    charged_text="0.10", refunded=0, refunded_text="0.00", reason=None,
                    reason_text=None, review=False, review_note=None, stopped_for=None)
RESULTS = [
    replace(SETTLED, job_key="k11", id=11, name="Quarterly report final v3.pdf", printed=4,
            total=12, estimate=600, estimate_text="6.00", charged=200, charged_text="2.00",
            refunded=400, refunded_text="4.00", reason="jam",
            reason_text="Paper jam at page 4"),
    SETTLED,
]
COPYING = CopyProgress(session_key="c1", user="alice", pages=7,
                       pages_by_kind={"mono": 5, "colour": 2}, cost=150, cost_text="1.50",
                       limit=1000, enforced=True)
COPIED = CopyResult(session_key="c1", state="review", user="alice", reason="stop", pages=8,
                    pages_by_kind={"mono": 5, "colour": 2}, enforced=True, board_pages=7,
                    counter_pages=8, copy_counter_pages=None, prints_in_window=0,
                    source="review", review=True, note="", cost=200, cost_text="2.00",
                    charged=200, charged_text="2.00")
TYPES = ["print", "refund", "copy", "adjustment"]
ROWS = [Row(date=(NOW - timedelta(hours=5 * i)).isoformat(), transacted_by="alice",
            type=TYPES[i % 4], system_note=f"Job {100 + i}: Quarterly report",
            comment="" if i % 3 else "Top-up at desk", amount=-60 if i % 4 != 1 else 40,
            amount_text="-0.60" if i % 4 != 1 else "+0.40", balance=1000 - 10 * i,
            balance_text=f"{(1000 - 10 * i) / 100:.2f}") for i in range(100)]


def _idle(app: Any) -> None:
    app.idle_screen().show_printer(PRINTER)
    app.go("idle")


def _idle_alerts(app: Any) -> None:
    app.offline = True
    app.idle_screen().show_printer(ALERTS)
    app.go("idle")


def _keypad(app: Any) -> None:
    app.go("keypad")
    keypad = app.screen("keypad")
    for digit in "2468":
        keypad.press(digit)
    keypad.show_error("That code is not right. Check it and try again.")


def _jobs(app: Any) -> None:
    app.offline = False
    app.balance_text = SESSION.balance_text
    jobs = app.screen("jobs")
    jobs.show_session(SESSION)
    jobs.show_jobs(JOBS)
    jobs.show_copier(True)
    jobs.rows[0].selected = True
    app.go("jobs")


def _jobs_denied(app: Any) -> None:
    _jobs(app)
    app.screen("jobs").show_denied("Print denied: balance 0.40, job costs 6.00")


def _releasing(app: Any) -> None:
    releasing = app.screen("releasing")
    releasing.start(RELEASES, {11: JOBS[0].name, 12: JOBS[1].name}, {})
    releasing.show_progress(replace(RESULTS[0], state="printing", printed=3, charged=0,
                                    charged_text="0.00", refunded=0, refunded_text="0.00",
                                    reason=None, reason_text=None))
    app.go("releasing")


def _result(app: Any) -> None:
    app.screen("result").show_results(RESULTS)
    app.go("result")


def _copy(app: Any) -> None:
    screen = app.screen("copy")
    screen.starting()
    screen.show_progress(COPYING)
    app.go("copy")


def _copy_not_enforced(app: Any) -> None:
    screen = app.screen("copy")
    screen.starting()
    screen.show_progress(replace(COPYING, session_key="c2", pages=3, pages_by_kind={"mono": 3},
                                 cost=30, cost_text="0.30", enforced=False))
    app.go("copy")


def _idle_copy_logged_out(app: Any) -> None:
    app.offline = False
    app.balance_text = ""
    app.idle_screen().show_printer(PRINTER)
    app.go("idle")
    app.idle_screen().show_copy_result(replace(COPIED, reason="logout", pages=3, charged=30,
                                               charged_text="0.30"))


def _copy_result(app: Any) -> None:
    app.screen("copy").show_result(COPIED)
    app.go("copy")


def _account(app: Any) -> None:
    app.go("account")
    app.screen("account").show_account(Account(user="alice", balance=1000,
                                               balance_text="10.00", transactions=ROWS))


def _alerts(app: Any) -> None:
    app.screen("alerts").show_printer(ALERTS)
    app.go("alerts")


def _timeout(app: Any) -> None:
    _jobs(app)
    app.logout_warning.show_countdown(7)


def _close_modal(app: Any) -> None:
    app.logout_warning.hide()


SCENES: list[tuple[str, Callable[[Any], None]]] = [
    ("idle", _idle), ("idle_alerts", _idle_alerts), ("keypad", _keypad), ("jobs", _jobs),
    ("jobs_denied", _jobs_denied), ("releasing", _releasing), ("result", _result),
    ("copy", _copy), ("copy_result", _copy_result),
    ("copy_not_enforced", _copy_not_enforced), ("idle_copy_logged_out", _idle_copy_logged_out),
    ("account", _account), ("learn", lambda app: app.go("learn")),
    ("devices", lambda app: app.go("devices")), ("alerts", _alerts),
    ("auto_logout", _timeout),
]


async def _frames(count: int = 4) -> None:
    from kivy.clock import Clock

    target = Clock.frames_displayed + count
    for _ in range(500):
        if Clock.frames_displayed >= target:
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("Kivy drew no frames; is a display or EGL available?")


async def render(size: tuple[int, int], out: Path) -> list[Path]:
    """Start the panel unconnected, show each scene, save one PNG per scene."""
    from kivy.core.window import Window

    from ui.panel import PanelApp

    config = PanelConfig(socket="", panel=PanelSection(
        portal_url="https://print.example.org/portal/setup?device=lib-2f"))
    app = PanelApp(config, size, connect=False)
    task = asyncio.get_running_loop().create_task(app.async_run(async_lib="asyncio"))
    while app.root is None:
        if task.done():
            task.result()
            raise RuntimeError("the panel stopped before it showed a screen")
        await asyncio.sleep(0.01)
    saved = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, scene in SCENES:
            scene(app)
            await _frames()
            shot = Window.screenshot(name=str(Path(tmp) / f"{name}.png"))
            target = out / f"{name}.png"
            shutil.move(shot, target)
            saved.append(target)
            _close_modal(app)
    app.stop()
    await task
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="800x480")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    configure_kivy(size, fullscreen=False)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(render(size, args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
