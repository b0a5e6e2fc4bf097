"""The panel on a copier with no board ([copier] tracking = "counters"): Copy is offered,
the copy screen says plainly that copying is not enforced, and the result is the agent's
count from the device's counters. Real agent, simulator copier with no board wired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.agent_env import AgentEnv
from tests.e2e.test_copy_sessions import copy
from tests.e2e.test_copy_without_board import counted_env
from tests.panel.driver import PanelDriver, start_panel
from tests.panel.test_copy_screen import copy_on
from ui import strings


@pytest.fixture
def counted() -> Iterator[AgentEnv]:
    made = counted_env()
    yield made
    made.stop()


@pytest.fixture
async def counted_panel(counted: AgentEnv) -> AsyncIterator[PanelDriver]:
    driver = await start_panel(counted.socket_path)
    try:
        yield driver
    finally:
        await driver.stop()


async def test_the_copy_screen_says_copying_is_not_enforced(
        counted_panel: PanelDriver, counted: AgentEnv) -> None:
    panel = counted_panel
    screen = await copy_on(panel)
    assert panel.app.controller.copier is True
    assert screen.enforced is False
    assert screen.note.text == strings.COPY_NOT_ENFORCED
    assert "not enforced" in screen.note.text and "cannot stop" in screen.note.text

    assert (await asyncio.to_thread(copy, counted, 3))["copied"] == 3
    await panel.wait(lambda: screen.pages.text == strings.COPY_PAGES.format(pages=3), 30,
                     "3 pages shown")
    assert screen.note.text == strings.COPY_NOT_ENFORCED  # still said while copying
    await panel.tap(screen.stop)
    await panel.wait(lambda: screen.result is not None, 30, "the copy result")
    assert screen.result is not None and screen.result.enforced is False
    assert screen.texts == [strings.COPY_ENDED["stop"],
                            strings.COPY_RESULT_PAGES.format(pages=3),
                            strings.COPY_RESULT_COST.format(cost="0.30"),
                            strings.COPY_RESULT_CHARGED.format(amount="0.30")]
    await panel.wait(lambda: "9.70" in panel.app.balance_text, what="balance 9.70")
