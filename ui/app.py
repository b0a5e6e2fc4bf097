"""`pagetally panel`: configure Kivy for the target screen, then run the panel on asyncio.

Kivy reads its settings when first imported, so everything here happens before that import:
KIVY_NO_ARGS keeps Kivy off our command line, and the window size and mode go into Kivy's
Config before the window exists.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from ui.config import ConfigError, PanelConfig, load_config
from ui.theme import SIZES, parse_size


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pagetally panel",
                                     description="Run the PageTally touch panel.")
    parser.add_argument("--socket", help="the agent's API socket (default: [api] socket "
                                         "from --config, else /run/pagetally/agent.sock)")
    parser.add_argument("--size", default="800x480",
                        help=f"screen size, one of {', '.join(SIZES)} (default 800x480)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--fullscreen", dest="fullscreen", action="store_true", default=True,
                      help="fill the screen, no cursor (default; for the appliance)")
    mode.add_argument("--windowed", dest="fullscreen", action="store_false",
                      help="run in a window (for development)")
    parser.add_argument("--config", type=Path, help="the agent's TOML config ([api], [panel])")
    parser.add_argument("--panel-config", type=Path,
                        help="a panel TOML file whose [panel] section overrides --config")
    return parser


def configure_kivy(size: tuple[int, int], fullscreen: bool) -> None:
    """Settings Kivy must have before its window is created."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")


async def run_panel(config: PanelConfig, size: tuple[int, int]) -> None:
    """Run the app on the current asyncio loop and close the API connection after."""
    from ui.panel import PanelApp

    app = PanelApp(config, size)
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        await app.controller.close()


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        size = parse_size(args.size)
        config = load_config(args.config, args.panel_config, args.socket)
    except (ValueError, ConfigError) as exc:
        print(f"pagetally panel: {exc}", file=sys.stderr)
        return 2
    configure_kivy(size, args.fullscreen)
    asyncio.run(run_panel(config, size))
    return 0
