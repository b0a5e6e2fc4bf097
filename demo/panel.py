"""Open the touch panel against the demo's agent when there is a screen to show it on."""

from __future__ import annotations

import importlib.util
import os
import time

from demo.services import Services, pagetally_command
from demo.world import USERS


def display_available() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def panel_command(socket_path: str, config: str) -> list[str]:
    return [*pagetally_command(), "panel", "--windowed", "--socket", socket_path,
            "--config", config]


def codes_hint() -> str:
    return ", ".join(f"{u.code} ({u.name})" for u in USERS)


def open_panel(services: Services, socket_path: str, config: str) -> bool:
    """Run the panel until the user closes its window; False if it could not start."""
    if importlib.util.find_spec("kivy") is None:
        print("  The panel needs Kivy, which is not installed here"
              " (`pip install -e '.[panel]'`).")
        return False
    print(f"  Opening the touch panel. Log in with {codes_hint()}.")
    print("  Close the panel window to end the demo.")
    service = services.start("panel", panel_command(socket_path, config))
    started = time.monotonic()
    while service.running():
        time.sleep(0.2)
    services.stop(service)
    if service.proc.returncode != 0 and time.monotonic() - started < 10:
        print(f"  The panel stopped with exit code {service.proc.returncode}:\n"
              f"{service.tail()}")
        return False
    print("  Panel closed.")
    return True


def how_to_open() -> str:
    return ("  No display here (DISPLAY and WAYLAND_DISPLAY are unset), so the touch panel stays"
            " closed.\n  On a machine with a screen the demo opens it; with --keep, the demo"
            " prints the command\n  that opens it against the running agent.")
