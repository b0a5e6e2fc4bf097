"""Panel benchmark: cold start (target <= 3 s) and tap-to-next-screen latency (<= 100 ms).

Cold start is measured from process launch to the first frame of the idle screen showing
the printer's status from a real agent, against the cold start of a bare Kivy app measured
in the same run. Tap latency is from a finger lifting to the next screen's first frame.
Prints one JSON line last. Run: .venv/bin/python -m bench.panel
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAPS = 30
BARE_APP = """
import asyncio, os
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label
class Bare(App):
    def load_kv(self, filename=None):
        return None
    def build(self):
        Clock.schedule_once(lambda dt: (print("READY", flush=True), self.stop()), 0)
        return Label(text="bare")
asyncio.run(Bare().async_run(async_lib="asyncio"))
"""


def _env() -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="kivy-bench-")
    return {**os.environ, "KIVY_HOME": home, "KIVY_NO_ARGS": "1", "KIVY_NO_FILELOG": "1",
            "KIVY_LOG_MODE": "PYTHON", "PYTHONPATH": str(ROOT)}


def _time_until_ready(args: list[str]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=_env(), cwd=ROOT)
    assert proc.stdout is not None
    elapsed, lines = 0.0, []
    for line in proc.stdout:
        if line.startswith("READY") and not elapsed:
            elapsed = time.perf_counter() - start
        lines.append(line)
    proc.wait(timeout=60)
    if not elapsed:
        raise RuntimeError(f"child never became ready: {''.join(lines)}")
    return elapsed, lines


async def _child(socket_path: str) -> None:
    """Runs in the child: start the panel, report READY, then time taps."""
    from tests.panel.driver import start_panel

    panel = await start_panel(socket_path)
    await panel.frames(1)
    print("READY", flush=True)
    from kivy.base import EventLoop
    from kivy.clock import Clock

    from tests.panel.driver import Finger

    idle, keypad = panel.screen("idle"), panel.screen("keypad")
    samples = []
    for _ in range(TAPS):
        for button, target in ((idle.enter_code, "keypad"), (keypad.back_key, "idle")):
            x, y = button.to_window(*button.center)
            finger = Finger(x, y)
            EventLoop.post_dispatch_input("begin", finger)
            await panel.frames(1)
            finger.move({"x": x, "y": y})
            lifted = time.perf_counter()
            EventLoop.post_dispatch_input("end", finger)
            await panel.wait(lambda t=target: panel.app.current_screen() == t, 5, target)
            shown = Clock.frames_displayed
            await panel.wait(lambda f=shown: Clock.frames_displayed > f, 5, "a frame")
            samples.append(time.perf_counter() - lifted)
    print("TAPS " + json.dumps(samples), flush=True)
    await panel.stop()


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        asyncio.run(_child(sys.argv[2]))
        return 0
    from tests.agent_env import make_env

    env = make_env()
    try:
        bare_s, _ = _time_until_ready([sys.executable, "-c", BARE_APP])
        cold_s, lines = _time_until_ready([sys.executable, "-m", "bench.panel", "--child",
                                           env.socket_path])
    finally:
        env.stop()
    taps = json.loads(next(line for line in lines if line.startswith("TAPS "))[5:])
    tap_ms = sorted(t * 1000 for t in taps)
    result = {
        "bench": "panel",
        "cold_start_s": round(cold_s, 3),
        "bare_kivy_start_s": round(bare_s, 3),
        "cold_start_ratio": round(cold_s / bare_s, 2),
        "cold_start_ok": cold_s <= 3.0,
        "tap_to_screen_ms_median": round(statistics.median(tap_ms), 1),
        "tap_to_screen_ms_p95": round(tap_ms[int(len(tap_ms) * 0.95) - 1], 1),
        "tap_to_screen_ms_max": round(tap_ms[-1], 1),
        "taps": len(tap_ms),
        "tap_ok": tap_ms[int(len(tap_ms) * 0.95) - 1] <= 100.0,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
