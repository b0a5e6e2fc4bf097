"""Run the real panel in-process against a real agent and simulator (no mocks).

Kivy renders offscreen (SDL offscreen + EGL) when there is no DISPLAY. Kivy reads its
environment on first import, so this file sets it up before anything imports kivy.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

from collections.abc import AsyncIterator

import pytest

from tests.panel.driver import PanelDriver, start_panel


@pytest.fixture
async def panel(agent_env: object) -> AsyncIterator[PanelDriver]:
    """The panel at 800x480, connected to `agent_env`'s agent and showing the idle screen."""
    driver = await start_panel(agent_env.socket_path)  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        await driver.stop()
