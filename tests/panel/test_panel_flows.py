"""The panel driven by touches against the real agent and simulator: no part is mocked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent_env import AgentEnv, make_env
from tests.panel.driver import PanelDriver, start_panel
from ui import strings


def page_texts(releasing: Any) -> list[str]:
    """Record every "Page k of n" the releasing screen shows from now on."""
    seen: list[str] = []
    releasing.page.bind(text=lambda _w, text: seen.append(text))
    return seen


async def test_log_in_release_progress_result_and_transactions(
        panel: PanelDriver, agent_env: AgentEnv) -> None:
    job_id = await agent_env.submit("alice", "Report.pdf", 20)
    jobs = await panel.log_in("246810")
    await panel.wait(lambda: len(jobs.rows) == 1, what="alice's held job")
    assert jobs.rows[0].job.id == job_id
    assert jobs.rows[0].job.estimate == 200
    assert "10.00" in jobs.header.balance.text
    seen = page_texts(panel.screen("releasing"))

    await panel.tap(jobs.rows[0])                     # tap 1: select the job
    await panel.wait(lambda: jobs.selected_ids() == [job_id], what="the job selected")
    assert jobs.print_selected.text == strings.JOBS_PRINT_SELECTED.format(count=1)
    await panel.tap(jobs.print_selected)              # tap 2: release it
    await panel.wait_screen("releasing")
    result = await panel.wait_screen("result", timeout=30)

    progress = [t for t in seen if t.startswith("Page ")]
    assert progress, f"no live progress shown; texts: {seen}"
    assert progress[-1] == strings.RELEASING_PAGE.format(printed=20, total=20)
    assert all(t.endswith("of 20") for t in progress)
    assert strings.RESULT_PRINTED.format(printed=20, total=20) in result.texts
    assert any(t.startswith("Charged ") and "2.00" in t for t in result.texts)
    assert strings.RESULT_NO_REFUND in result.texts
    assert agent_env.sim_client.job(job_id)["printed"] == 20
    await panel.wait(lambda: "8.00" in panel.app.balance_text, what="balance 8.00")

    await panel.tap(result.more)
    jobs = await panel.wait_screen("jobs")
    await panel.wait(lambda: jobs.empty.text == strings.JOBS_EMPTY, what="empty job list")
    assert jobs.rows == []
    await panel.tap(jobs.account)
    account = await panel.wait_screen("account")
    await panel.wait(lambda: bool(account.rows), what="transactions")
    assert "8.00" in account.balance.text
    amount_col = account.columns.index("amount_text")
    assert any("2.00" in row[amount_col] for row in account.rows), account.rows
    await panel.frames(3)
    shown = account.table.children[0].children
    assert shown and any(label.text for label in shown[-1].labels)


async def test_jam_refunds_the_pages_that_never_came_out(
        panel: PanelDriver, agent_env: AgentEnv) -> None:
    job_id = await agent_env.submit("alice", "Jammed.pdf", 10)
    agent_env.sim_client.job_faults(job_id, jam_at=4, jam_then="abort")
    jobs = await panel.log_in("246810")
    await panel.wait(lambda: len(jobs.rows) == 1, what="the held job")
    await panel.tap(jobs.print_all)                   # one tap releases everything
    releasing = await panel.wait_screen("releasing")
    await panel.wait(lambda: releasing.note.text.startswith("Printing stopped: Paper jam"),
                     timeout=20, what="the jam shown while printing")
    agent_env.sim_client.clear()                      # someone clears the jam
    result = await panel.wait_screen("result", timeout=30)

    [status] = panel.screen("releasing").ordered_results()
    truth = agent_env.sim_client.job(job_id)
    assert status.printed == truth["printed"] < 10
    assert status.charged == truth["printed"] * 10
    assert status.refunded == (10 - truth["printed"]) * 10
    assert strings.RESULT_PRINTED.format(printed=truth["printed"], total=10) in result.texts
    refund = [t for t in result.texts if t.startswith("Refunded ")]
    assert refund and status.refunded_text in refund[0]
    assert status.reason_text and status.reason_text in refund[0]


async def test_print_denied_shows_the_figures(panel: PanelDriver,
                                              agent_env: AgentEnv) -> None:
    await agent_env.submit("bob", "Poster.pdf", 3, color=True)
    jobs = await panel.log_in("135790")
    await panel.wait(lambda: len(jobs.rows) == 1, what="bob's held job")
    await panel.tap(jobs.print_all)
    await panel.wait(lambda: jobs.banner.text != "", what="the denial")
    assert panel.app.current_screen() == "jobs"
    assert jobs.banner.text.startswith(strings.JOBS_DENIED)
    assert "0.40" in jobs.banner.text and "1.50" in jobs.banner.text


async def test_wrong_code_stays_on_the_keypad(panel: PanelDriver) -> None:
    await panel.tap(panel.screen("idle").enter_code)
    keypad = await panel.wait_screen("keypad")
    for digit in "999999":
        await panel.tap(keypad.keys[digit])
    await panel.tap(keypad.ok_key)
    await panel.wait(lambda: keypad.message.text not in (strings.KEYPAD_HINT,
                                                         strings.KEYPAD_CHECKING),
                     what="the refusal")
    assert panel.app.current_screen() == "keypad"
    assert tuple(keypad.message.color) == panel.app.colours.danger
    assert keypad.code == ""


@pytest.fixture
async def short_timeout_panel() -> Any:
    """An agent whose sessions end after 12 s idle, and a panel on it."""
    env = make_env(start=False)
    env.config_text = env.config_text.replace("session_timeout_s = 60",
                                              "session_timeout_s = 12")
    env.start_agent()
    driver = await start_panel(env.socket_path)
    try:
        yield driver
    finally:
        await driver.stop()
        env.stop()


async def test_auto_logout_counts_down_then_logs_out(short_timeout_panel: PanelDriver) -> None:
    panel = short_timeout_panel
    await panel.log_in("246810")
    warning = panel.app.logout_warning
    await panel.wait(lambda: warning.showing, timeout=15, what="the countdown")
    assert warning.countdown.text.startswith("You will be logged out in ")
    seconds = int(warning.countdown.text.split(" in ")[1].split(" ")[0])
    assert 1 <= seconds <= 10
    idle = await panel.wait_screen("idle", timeout=15)
    assert not warning.showing
    assert idle.banner.text == strings.LOGGED_OUT_TIMEOUT
    assert panel.app.balance_text == ""


async def test_site_hides_parts_of_the_account_screen(agent_env: AgentEnv) -> None:
    panel = await start_panel(agent_env.socket_path,
                              hidden=["account.balance", "account.transactions.comment"])
    try:
        await panel.log_in("246810")
        await panel.tap(panel.screen("jobs").account)
        account = await panel.wait_screen("account")
        await panel.wait(lambda: account.status.text != strings.ACCOUNT_LOADING,
                         what="the account summary")
        assert account.balance.parent is None
        assert "comment" not in account.columns
        assert account.columns == ["date", "transacted_by", "type", "system_note",
                                   "amount_text", "balance_text"]
    finally:
        await panel.stop()
