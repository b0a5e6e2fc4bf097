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

from ui.app import configure_kivy
from ui.config import PanelConfig, PanelSection
from ui.theme import parse_size

NOW = datetime.now().astimezone()
PRINTER = {"name": "Library 2nd floor MFD", "state": "idle", "reasons": [], "online": True,
           "alerts": []}
ALERTS = {**PRINTER, "state": "stopped", "online": False, "alerts": [
    {"kind": "jam", "text": "Paper jam in tray 2", "help": ""},
    {"kind": "paper-out", "text": "Tray 1 is empty", "help": ""},
    {"kind": "toner-low", "text": "Black toner low", "help": ""},
]}
SESSION = {"user": "alice", "display_name": "Alice Example", "balance": 1000,
           "balance_text": "10.00", "offline": False, "expires_in": 60}
JOBS = [
    {"id": 11, "name": "Quarterly report final v3.pdf", "pages": 12, "copies": 1,
     "color": True, "duplex": True, "media": "A4", "estimate": 600, "estimate_text": "6.00",
     "submitted_at": (NOW - timedelta(minutes=12)).isoformat()},
    {"id": 12, "name": "Boarding pass", "pages": 1, "copies": 1, "color": False,
     "duplex": False, "media": "A4", "estimate": 10, "estimate_text": "0.10",
     "submitted_at": (NOW - timedelta(minutes=3)).isoformat()},
    {"id": 13, "name": "Thesis chapter 4 - Methods and materials (draft for supervisor).docx",
     "pages": 38, "copies": 2, "color": False, "duplex": True, "media": "A4",
     "estimate": 760, "estimate_text": "7.60",
     "submitted_at": (NOW - timedelta(days=1, hours=2)).isoformat()},
    {"id": 14, "name": "Label sheet (printer driver output)", "pages": None, "copies": 1,
     "color": False, "duplex": False, "media": "A4", "estimate": 200, "estimate_text": "2.00",
     "estimate_kind": "deposit", "submitted_at": (NOW - timedelta(minutes=1)).isoformat()},
]
RELEASES = [{"id": 11, "job_key": "k11", "estimate": 600, "estimate_text": "6.00"},
            {"id": 12, "job_key": "k12", "estimate": 10, "estimate_text": "0.10"}]
RESULTS = [
    {"job_key": "k11", "id": 11, "name": "Quarterly report final v3.pdf", "state": "settled",
     "printed": 4, "total": 12, "charged": 200, "charged_text": "2.00", "refunded": 400,
     "refunded_text": "4.00", "reason": "jam", "reason_text": "Paper jam at page 4",
     "review": False},
    {"job_key": "k12", "id": 12, "name": "Boarding pass", "state": "settled", "printed": 1,
     "total": 1, "charged": 10, "charged_text": "0.10", "refunded": 0, "refunded_text": "0.00",
     "reason": "", "reason_text": "", "review": False},
]
COPYING = {"session_key": "c1", "state": "copying", "user": "alice", "pages": 7,
           "pages_by_kind": {"mono": 5, "colour": 2}, "cost": 150, "cost_text": "1.50",
           "limit": 1000}
COPIED = {**COPYING, "state": "review", "reason": "stop", "pages": 8, "board_pages": 7,
          "counter_pages": 8, "prints_in_window": 0, "source": "review", "review": True,
          "note": "", "cost": 200, "cost_text": "2.00", "charged": 200,
          "charged_text": "2.00"}
TYPES = ["print", "refund", "copy", "adjustment"]
ROWS = [{"date": (NOW - timedelta(hours=5 * i)).isoformat(), "transacted_by": "alice",
         "type": TYPES[i % 4], "system_note": f"Job {100 + i}: Quarterly report",
         "comment": "" if i % 3 else "Top-up at desk", "amount": -60 if i % 4 != 1 else 40,
         "amount_text": "-0.60" if i % 4 != 1 else "+0.40", "balance": 1000 - 10 * i,
         "balance_text": f"{(1000 - 10 * i) / 100:.2f}"} for i in range(100)]


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
    app.balance_text = SESSION["balance_text"]
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
    releasing.start(RELEASES, {11: JOBS[0]["name"], 12: JOBS[1]["name"]}, {})
    releasing.show_progress({**RESULTS[0], "state": "printing", "printed": 3})
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
    screen.show_progress({**COPYING, "session_key": "c2", "pages": 3,
                          "pages_by_kind": {"mono": 3}, "cost": 30, "cost_text": "0.30",
                          "enforced": False})
    app.go("copy")


def _idle_copy_logged_out(app: Any) -> None:
    app.offline = False
    app.balance_text = ""
    app.idle_screen().show_printer(PRINTER)
    app.go("idle")
    app.idle_screen().show_copy_result({**COPIED, "reason": "logout", "pages": 3,
                                        "charged": 30, "charged_text": "0.30"})


def _copy_result(app: Any) -> None:
    app.screen("copy").show_result(COPIED)
    app.go("copy")


def _account(app: Any) -> None:
    app.go("account")
    app.screen("account").show_account({"balance": 1000, "balance_text": "10.00",
                                        "transactions": ROWS})


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
