"""Copy sessions through the simulated copier board on a pty, with a real agent process.

The simulator runs the board's firmware core and a walk-up copier that copies only while
the board's relay is on; the agent enables it through `copy.start`, as the panel does.
Ground truth is the board's own state and the engine's counters, read from /sim/.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent_env import CODES, AgentEnv, make_env
from tests.central.conftest import CentralRunner
from tests.e2e.test_api_docs import documented_fields
from tests.mosquitto import Mosquitto
from tests.sync.conftest import (
    DEVICE,
    START,
    SyncEnv,
    agent_mqtt,
    seed_central,
    stop_sync_env,
)

MONO, COLOUR = 10, 50  # minor units per copied page, as set in the [copier] section below
LEASE_S = 3.0
PAGE_S = 0.12  # the simulated copier: one 60 ms pulse and a 60 ms gap per page


def board(env: AgentEnv, path: str = "", body: dict[str, Any] | None = None) -> Any:
    """/sim/board: GET the board's state, or POST to one of its routes."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{env.sim.control.rstrip('/')}/sim/board{path}", data=data,
                                 method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def copy(env: AgentEnv, pages: int, color: bool = False) -> dict[str, int]:
    """Someone at the copier presses Start for `pages` pages; returns what it made."""
    return dict(board(env, "/copy", {"pages": pages, "color": color}))


def board_pages(env: AgentEnv) -> int:
    return sum(int(c["pages"]) for c in board(env)["channels"])


def copy_rows(env: AgentEnv) -> list[tuple[str, str, str | None]]:
    """(session, state, result) of every copy session in the agent's ledger."""
    with sqlite3.connect(f"file:{env.dir}/ledger.db?mode=ro", uri=True) as db:
        return list(db.execute("SELECT session_key, state, result_json FROM copy_sessions"))


def copy_txns(env: AgentEnv) -> list[tuple[str, str, int]]:
    with sqlite3.connect(f"file:{env.dir}/ledger.db?mode=ro", uri=True) as db:
        return list(db.execute(
            "SELECT session_key, user, amount FROM txns WHERE kind = 'copy' ORDER BY seq"))


def copy_env(idle_timeout_s: float = 60.0, **options: Any) -> AgentEnv:
    """Simulator + agent with the copier board on; `options` go to make_env."""
    env = make_env(start=False, **options)
    env.config_text += f"""
[copier]
board_port = "{board(env)["path"]}"
lease_s = {LEASE_S}
idle_timeout_s = {idle_timeout_s}

[copier.prices]
mono = "0.10"
colour = "0.50"
"""
    env.start_agent()
    return env


@pytest.fixture
def env() -> Iterator[AgentEnv]:
    made = copy_env()
    yield made
    made.stop()


async def pages_shown(api: Any, pages: int) -> None:
    """Until copy.progress shows at least `pages` pages copied."""
    while (await api.next_notification("copy.progress", 30))["pages"] < pages:
        continue


def wait_until(env: AgentEnv, done: Callable[[], bool], what: str, timeout: float = 40.0
               ) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, (
            f"waited {timeout} s for {what}; agent said:\n"
            f"{env.agent.output() if env.agent else ''}")
        time.sleep(0.1)


async def settled(api: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The copy.progress notification that carries the session's settled result."""
    while True:
        note = await api.next_notification("copy.progress", timeout)
        if note["state"] in ("settled", "review"):
            return dict(note)


async def test_copy_session_is_charged_exactly(env: AgentEnv) -> None:
    async with env.client(login="alice") as api:
        started = await api.call("copy.start")
        assert (started["state"], started["pages"], started["limit"]) == ("copying", 0, 1000)
        assert board(env)["relay"] is True
        assert copy(env, 5) == {"asked": 5, "copied": 5, "refused": 0}
        shown = [await api.next_notification("copy.progress") for _ in range(6)]
        assert [(n["state"], n["pages"], n["cost"]) for n in shown] == [
            ("copying", k, k * MONO) for k in range(6)]  # the start, then each page live
        assert copy(env, 2, color=True)["copied"] == 2
        result = await api.call("copy.stop")
        summary = await api.call("account.summary")
    assert board(env)["relay"] is False
    assert sorted(started) == sorted(documented_fields("CopyProgress"))
    assert sorted(result) == sorted(documented_fields("CopyResult"))
    assert (result["pages"], result["pages_by_kind"]) == (7, {"mono": 5, "colour": 2})
    assert (result["board_pages"], result["counter_pages"]) == (7, 7)
    assert (result["cost"], result["charged"], result["review"]) == (
        5 * MONO + 2 * COLOUR, 150, False)
    assert copy_txns(env) == [(result["session_key"], "alice", -150)]
    assert summary["balance"] == 1000 - 150
    assert copy(env, 1)["refused"] == 1  # no session: the copier is off


async def test_logout_ends_the_copy_session(env: AgentEnv) -> None:
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 3)["copied"] == 3
        await api.call("session.logout")
        result = await settled(api)
    assert (result["reason"], result["pages"], result["charged"]) == ("logout", 3, 3 * MONO)
    assert board(env)["relay"] is False


async def test_pages_the_board_did_not_count_go_to_review(env: AgentEnv) -> None:
    """A copy made with the interface bypassed (a service mode, a miswired board) shows on
    the device's counters only: the larger count is charged and a person looks at it."""
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 3)["copied"] == 3
        env.sim_client.copy(2)  # straight through the engine: no pulses
        result = await api.call("copy.stop")
    assert (result["board_pages"], result["counter_pages"]) == (3, 5)
    assert (result["state"], result["review"], result["pages"]) == ("review", True, 5)
    assert result["charged"] == 5 * MONO
    assert "the board counted 3 pages and the device's counters 5" in result["note"]


async def test_a_board_that_restarts_mid_session_settles_from_the_counters(env: AgentEnv
                                                                          ) -> None:
    """Its counters began again at zero: the device's counter delta is charged, for review."""
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 3)["copied"] == 3
        board(env, "/unplug", {"power_off": True})
        board(env, "/plug", {})
        result = await settled(api)
    assert (result["reason"], result["board_pages"], result["counter_pages"]) == (
        "board-reset", None, 3)
    assert (result["review"], result["pages"], result["charged"]) == (True, 3, 3 * MONO)
    assert "the board's counters were lost" in result["note"]
    assert board(env)["relay"] is False and board(env)["boots"] == 2


async def test_an_idle_copy_session_ends_by_itself() -> None:
    env = copy_env(idle_timeout_s=1.0)
    try:
        async with env.client(login="alice") as api:
            await api.call("copy.start")
            result = await settled(api)
        assert (result["reason"], result["pages"], result["charged"]) == ("idle", 0, 0)
        assert board(env)["relay"] is False and copy(env, 1)["refused"] == 1
        assert copy_txns(env) == []
    finally:
        env.stop()


async def test_agent_killed_mid_session_settles_once_after_restart(env: AgentEnv) -> None:
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        run = asyncio.create_task(asyncio.to_thread(copy, env, 60))
        await pages_shown(api, 3)
        assert env.agent is not None
        env.agent.kill9()
        at_kill = board_pages(env)
        made = await run
    state = board(env)
    assert state["relay"] is False and state["off_reason"] == 3  # the lease lapsed
    assert 3 <= made["copied"] < 60
    assert made["copied"] - at_kill <= LEASE_S / PAGE_S + 1  # stopped within one lease
    [(key, status, _)] = copy_rows(env)
    assert status == "open" and copy_txns(env) == []
    for _ in range(2):  # a second restart settles nothing again
        env.start_agent()
        wait_until(env, lambda: copy_rows(env)[0][1] != "open", "the session to settle")
        assert copy_txns(env) == [(key, "alice", -made["copied"] * MONO)]
        result = json.loads(copy_rows(env)[0][2] or "null")
        assert (result["reason"], result["board_pages"], result["review"]) == (
            "restart", made["copied"], False)
        env.agent.stop()


async def test_limit_reached_while_the_host_is_frozen(env: AgentEnv) -> None:
    async with env.client(login="bob") as api:  # 0.40 of credit: four mono pages
        started = await api.call("copy.start")
        assert started["limit"] == 40
        board(env, "/freeze", {"frozen": True})
        made = copy(env, 10)
        state = board(env)
        board(env, "/freeze", {"frozen": False})
        result = await settled(api)
        summary = await api.call("account.summary")
    assert made == {"asked": 10, "copied": 4, "refused": 6}
    assert (state["relay"], state["off_reason"], state["used"]) == (False, 4, 40)
    assert (result["reason"], result["pages"], result["charged"]) == ("credit", 4, 40)
    assert summary["balance"] == 0


async def test_print_job_during_a_copy_session_each_charged_its_own(env: AgentEnv) -> None:
    job = await env.submit("alice", "during-copies.pdf", 5)
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        run = asyncio.create_task(asyncio.to_thread(copy, env, 6))
        await pages_shown(api, 2)
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        printed = await env.wait_result(api, ticket["job_key"])
        assert (await run)["copied"] == 6
        result = await api.call("copy.stop")
    assert env.sim_client.job(job)["printed"] == 5
    assert (printed["charged"], printed["review"]) == (5 * MONO, False)
    assert (result["pages"], result["prints_in_window"], result["counter_pages"]) == (6, 5, 6)
    assert (result["charged"], result["review"]) == (6 * MONO, False)


async def test_offline_the_limit_follows_the_offline_policy_and_the_charge_syncs_once(
        tmp_path: Path) -> None:
    """Central unreachable: the copy limit is the cached balance plus [identity]
    offline_credit, as for prints; the copy txn reaches central once the broker is back."""
    broker = Mosquitto(tmp_path / "broker", devices=(DEVICE,)).start()
    seed_central(tmp_path / "ledger.db")
    central = CentralRunner(tmp_path / "ledger.db", broker)
    central.start()
    env = copy_env(mqtt=agent_mqtt(broker),
                   extra='auth_timeout_s = 1.0\noffline_credit = "0.20"\n')
    sync = SyncEnv(broker, central, env)
    try:
        async with env.client(login="alice") as api:  # online: alice is cached
            assert (await api.call("copy.start"))["limit"] == START["alice"]
            assert (await api.call("copy.stop"))["charged"] == 0
        broker.stop()
        async with env.client() as api:
            session = await api.call("session.login", {"code": CODES["alice"]})
            assert session["offline"] is True
            started = await api.call("copy.start")
            assert started["limit"] == START["alice"] + 20  # the offline credit
            assert copy(env, 2)["copied"] == 2
            result = await api.call("copy.stop")
        assert result["charged"] == 2 * MONO
        broker.start()
        sync.wait_drained()
        copies = [r for r in sync.central_rows() if r.type == "copy"]
        assert [(r.job_id, r.amount) for r in copies] == [(result["session_key"], -2 * MONO)]
        assert sync.central_balance("alice") == START["alice"] - 2 * MONO
    finally:
        stop_sync_env(sync)
