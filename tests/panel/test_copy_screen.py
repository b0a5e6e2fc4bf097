"""The panel's Copy screens, driven by touches against a real agent whose copier board is
the simulator's (the firmware core on a pty): Copy, live pages and cost, Stop, the result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from msgspec.structs import replace

from agent.api.payloads import CopyResult
from tests.agent_env import CODES, AgentEnv
from tests.e2e.test_copy_sessions import MONO, board, copy, copy_env
from tests.panel.driver import PanelDriver, start_panel
from ui import strings
from ui.screens.copy import copy_result_lines, logged_out_text


@pytest.fixture
def board_env() -> Iterator[AgentEnv]:
    made = copy_env()
    yield made
    made.stop()


@pytest.fixture
async def copy_panel(board_env: AgentEnv) -> AsyncIterator[PanelDriver]:
    driver = await start_panel(board_env.socket_path)
    try:
        yield driver
    finally:
        await driver.stop()


async def copy_on(panel: PanelDriver, code: str = CODES["alice"]) -> Any:
    """Log in, tap Copy, and wait until the copier is on and Stop can be tapped."""
    jobs = await panel.log_in(code)
    await panel.wait(lambda: jobs.copy_button.parent is not None, what="the Copy button")
    await panel.tap(jobs.copy_button)
    screen = await panel.wait_screen("copy")
    await panel.wait(lambda: not screen.stop.disabled, what="Stop enabled")
    return screen


async def test_copy_live_pages_and_cost_then_stop_and_result(
        copy_panel: PanelDriver, board_env: AgentEnv) -> None:
    panel = copy_panel
    screen = await copy_on(panel)
    assert board(board_env)["relay"] is True
    assert screen.pages.text == strings.COPY_PAGES.format(pages=0)
    assert screen.note.text == strings.COPY_READY
    shown: list[str] = []
    screen.pages.bind(text=lambda _w, text: shown.append(text))

    made = await asyncio.to_thread(copy, board_env, 5)
    assert made["copied"] == 5
    await panel.wait(lambda: screen.pages.text == strings.COPY_PAGES.format(pages=5),
                     what="5 pages shown")
    assert shown[0] == strings.COPY_PAGE  # each page live, not only the total
    assert screen.cost.text == strings.COPY_COST.format(cost="0.50")
    assert screen.kinds.text == strings.COPY_KIND["mono"].format(pages=5)

    await panel.tap(screen.stop)
    await panel.wait(lambda: screen.result is not None, 30, "the copy result")
    await panel.frames(2)
    assert board(board_env)["relay"] is False
    assert screen.header.title.text == strings.COPY_DONE_TITLE
    assert screen.texts == [strings.COPY_ENDED["stop"],
                            strings.COPY_RESULT_PAGES.format(pages=5),
                            strings.COPY_RESULT_COST.format(cost="0.50"),
                            strings.COPY_RESULT_CHARGED.format(amount="0.50")]
    await panel.wait(lambda: "9.50" in panel.app.balance_text, what="balance 9.50")
    assert (await asyncio.to_thread(copy, board_env, 1))["refused"] == 1  # copier off again

    await panel.tap(screen.more)
    jobs = await panel.wait_screen("jobs")
    assert jobs.copy_button.parent is not None


async def test_uncounted_pages_show_the_review_note(
        copy_panel: PanelDriver, board_env: AgentEnv) -> None:
    """Pages on the device's counters with no pulses: the larger count is charged and the
    result says a person will check it."""
    screen = await copy_on(copy_panel)
    assert (await asyncio.to_thread(copy, board_env, 2))["copied"] == 2
    await asyncio.to_thread(board_env.sim_client.copy, 1)  # no pulses
    await copy_panel.wait(lambda: screen.pages.text == strings.COPY_PAGES.format(pages=2),
                          what="2 pages shown")
    await copy_panel.tap(screen.stop)
    await copy_panel.wait(lambda: screen.result is not None, 30, "the copy result")
    assert screen.result is not None and screen.result.review is True
    assert strings.COPY_RESULT_PAGES.format(pages=3) in screen.texts
    assert strings.COPY_RESULT_CHARGED.format(amount=f"0.{3 * MONO}") in screen.texts
    assert screen.texts[-1] == strings.COPY_RESULT_REVIEW


async def test_credit_used_up_ends_the_session_and_the_result_says_so(
        copy_panel: PanelDriver, board_env: AgentEnv) -> None:
    """Bob's 0.40 buys four mono pages: the board stops the copier, and the agent's
    notification (no Stop tapped) brings the result."""
    screen = await copy_on(copy_panel, CODES["bob"])
    made = await asyncio.to_thread(copy, board_env, 6)
    assert (made["copied"], made["refused"]) == (4, 2)
    await copy_panel.wait(lambda: screen.result is not None, 30, "the copy result")
    assert screen.texts == [strings.COPY_ENDED["credit"],
                            strings.COPY_RESULT_PAGES.format(pages=4),
                            strings.COPY_RESULT_COST.format(cost="0.40"),
                            strings.COPY_RESULT_CHARGED.format(amount="0.40")]
    assert screen.done_bar.parent is screen.body and screen.stop.parent is None

    await copy_panel.tap(screen.more)  # no credit left: Copy is refused in the agent's words
    jobs = await copy_panel.wait_screen("jobs")
    await copy_panel.tap(jobs.copy_button)
    await copy_panel.wait(lambda: jobs.banner.text != "", what="the refusal")
    assert copy_panel.app.current_screen() == "jobs"
    assert jobs.banner.text == "Copy denied: your credit does not cover one page"
    assert board(board_env)["relay"] is False


async def test_a_panel_restarted_mid_session_shows_the_running_session(
        board_env: AgentEnv) -> None:
    """The panel process restarts while the copier is on: it finds the session through
    copy.status and offers Stop again, so nobody is left copying with no way to end it."""
    first = await start_panel(board_env.socket_path)
    try:
        await copy_on(first)
        assert (await asyncio.to_thread(copy, board_env, 2))["copied"] == 2
    finally:
        await first.stop()
    again = await start_panel(board_env.socket_path)
    try:
        screen = await again.wait_screen("copy")
        await again.wait(lambda: not screen.stop.disabled, what="Stop enabled")
        assert screen.pages.text == strings.COPY_PAGES.format(pages=2)
        await again.tap(screen.stop)
        await again.wait(lambda: screen.result is not None, 30, "the copy result")
        assert strings.COPY_RESULT_CHARGED.format(amount="0.20") in screen.texts
    finally:
        await again.stop()


async def test_no_copy_button_without_a_copier_board(panel: PanelDriver) -> None:
    jobs = await panel.log_in("246810")
    await panel.wait(lambda: jobs.empty.text == strings.JOBS_EMPTY, what="the job list")
    assert panel.app.controller.copier is False
    assert jobs.copy_button.parent is None


async def test_logging_out_mid_session_shows_its_result_on_the_login_screen(
        copy_panel: PanelDriver, board_env: AgentEnv) -> None:
    """Log out from the auto-logout warning while the copier is on: the session ends with
    the login, settles a moment later, and the login screen says what it copied and
    charged, where the user still looks."""
    panel = copy_panel
    screen = await copy_on(panel)
    assert (await asyncio.to_thread(copy, board_env, 3))["copied"] == 3
    await panel.wait(lambda: screen.pages.text == strings.COPY_PAGES.format(pages=3),
                     what="3 pages shown")
    panel.app.logout_warning.show_countdown(8)
    await panel.tap(panel.app.logout_warning.leave)
    idle = await panel.wait_screen("idle")
    expected = strings.COPY_LOGGED_OUT.format(ended=strings.COPY_ENDED["logout"],
                                              pages=strings.COPY_PAGES.format(pages=3),
                                              amount="0.30")
    await panel.wait(lambda: idle.banner.text == expected, 30, "the copy result line")
    assert expected == "Copying ended when you logged out. 3 pages, charged 0.30."
    assert board(board_env)["relay"] is False
    assert screen.result is not None and screen.result.reason == "logout"
    assert panel.app.current_screen() == "idle" and not panel.app.controller.logged_in

    await panel.tap(idle.enter_code)  # the next user: the line goes with the idle screen
    await panel.wait_screen("keypad")
    assert idle.banner.text == ""


async def test_a_copy_session_ended_by_the_next_login_stays_off_their_screens(
        copy_panel: PanelDriver, board_env: AgentEnv) -> None:
    """Bob logs in (a card at the reader) while Alice's copier is on: her session ends
    with her login and settles a moment later. Its result is hers: bob's panel shows his
    jobs, neither her copy screen nor her result."""
    panel = copy_panel
    screen = await copy_on(panel)
    assert (await asyncio.to_thread(copy, board_env, 2))["copied"] == 2
    await panel.wait(lambda: screen.pages.text == strings.COPY_PAGES.format(pages=2),
                     what="2 pages shown")
    async with board_env.client() as api:
        await api.call("session.login", {"code": CODES["bob"]})
        while True:
            ended = await api.next_notification("copy.progress", 30)
            if ended["state"] != "copying":
                break
    assert (ended["user"], ended["reason"], ended["charged"]) == ("alice", "logout", 20)
    jobs = await panel.wait_screen("jobs")
    await panel.frames(4)
    assert jobs.header.title.text == strings.JOBS_TITLE.format(name="Bob Example")
    assert panel.app.current_screen() == "jobs"
    assert screen.result is None  # her result was not put on the copy screen for bob
    assert panel.app.idle_screen().banner.text != strings.COPY_LOGGED_OUT.format(
        ended=strings.COPY_ENDED["logout"], pages=strings.COPY_PAGES.format(pages=2),
        amount="0.20")


SETTLED = CopyResult(session_key="s", state="settled", user="alice", reason="idle", pages=1,
                     pages_by_kind={"mono": 1}, enforced=True, board_pages=1,
                     counter_pages=None, copy_counter_pages=None, prints_in_window=None,
                     source="board", review=False, note="", cost=0, cost_text="0.00",
                     charged=0, charged_text="0.00")


def test_result_lines_say_nothing_charged_and_each_ending() -> None:
    assert copy_result_lines(SETTLED) == [
        strings.COPY_ENDED["idle"], strings.COPY_RESULT_PAGE,
        strings.COPY_RESULT_COST.format(cost="0.00"), strings.COPY_RESULT_NOTHING]
    both = replace(SETTLED, reason="stop", pages=7, pages_by_kind={"mono": 5, "colour": 2},
                   cost=150, cost_text="1.50", charged=150, charged_text="1.50")
    assert copy_result_lines(both)[2] == "5 black and white  \u00b7  2 colour"
    assert copy_result_lines(both)[-1] == strings.COPY_RESULT_CHARGED.format(amount="1.50")
    unsorted = replace(both, pages=8, review=True)  # one page the board never counted
    assert "5 black and white  \u00b7  2 colour" not in copy_result_lines(unsorted)


def test_the_charge_is_the_agents_charged_text_in_the_sites_money_format() -> None:
    """What was charged, not the cost, in the agent's format: a charge that differs from
    the cost (part of it charged) and a currency with no minor unit both show as such."""
    partial = replace(SETTLED, reason="credit", pages=5, pages_by_kind={"mono": 5}, cost=50,
                      cost_text="0,50 \u20ac", charged=40, charged_text="0,40 \u20ac")
    assert copy_result_lines(partial)[-1] == strings.COPY_RESULT_CHARGED.format(
        amount="0,40 \u20ac")
    yen = replace(partial, cost=500, cost_text="500", charged=500, charged_text="500")
    assert copy_result_lines(yen)[-1] == "Charged 500"
    assert logged_out_text(replace(partial, reason="logout")) == (
        "Copying ended when you logged out. 5 pages, charged 0,40 \u20ac.")
    assert logged_out_text(replace(yen, pages=1, charged=0)) == (
        "Copying stopped: your credit is used up. 1 page, nothing charged.")
