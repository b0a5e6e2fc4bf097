"""Copy sessions without a copier board ([copier] tracking = "counters"), with a real agent.

The simulator runs with `--copier-without-board`: its walk-up copier copies whenever
asked and sends no pulses, as at a site with no interface board. The agent meters the
session from the device's counters alone: the page counter less the prints of the
window, and the vendor's copy counters where the SNMP profile has them (`vendor-split`
imitates a KONICA MINOLTA bizhub). Ground truth is the simulator's engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.agent_env import AgentEnv, make_env
from tests.e2e.test_api_docs import documented_fields
from tests.e2e.test_copy_sessions import (
    COLOUR,
    MONO,
    board,
    copy,
    copy_rows,
    copy_txns,
    settled,
    wait_until,
)

COUNTED = """
[copier]
tracking = "counters"
idle_timeout_s = {idle}

[copier.prices]
mono = "0.10"
colour = "0.50"
"""


def counted_env(idle_timeout_s: float = 60.0, profile: str = "") -> AgentEnv:
    """Simulator with no copier board + agent that tracks copies by the counters."""
    env = make_env("--copier-without-board", start=False, profile=profile)
    env.config_text += COUNTED.format(idle=idle_timeout_s)
    env.start_agent()
    return env


@pytest.fixture
def env() -> Iterator[AgentEnv]:
    made = counted_env()
    yield made
    made.stop()


@pytest.fixture
def split_env() -> Iterator[AgentEnv]:
    made = counted_env(profile="vendor-split")
    yield made
    made.stop()


async def pages_live(api: Any, pages: int) -> dict[str, Any]:
    while True:
        note = await api.next_notification("copy.progress", 30)
        if note["state"] == "copying" and note["pages"] >= pages:
            return dict(note)


async def test_the_copier_copies_without_a_board_and_the_counters_charge_it(
        env: AgentEnv) -> None:
    assert copy(env, 1) == {"asked": 1, "copied": 1, "refused": 0}  # nobody can stop it
    assert board(env)["relay"] is False
    async with env.client(login="alice") as api:
        assert (await api.call("printer.status"))["copy_enforced"] is False
        started = await api.call("copy.start")
        assert (started["state"], started["pages"], started["enforced"]) == (
            "copying", 0, False)
        assert copy(env, 4)["copied"] == 4
        live = await pages_live(api, 4)
        assert (live["pages"], live["cost"]) == (4, 4 * MONO)
        result = await api.call("copy.stop")
        summary = await api.call("account.summary")
    assert sorted(started) == sorted(documented_fields("CopyProgress"))
    assert sorted(result) == sorted(documented_fields("CopyResult"))
    assert (result["pages"], result["counter_pages"], result["copy_counter_pages"]) == (
        4, 4, None)
    assert (result["board_pages"], result["source"], result["review"]) == (
        None, "counters", False)
    assert (result["charged"], result["charged_text"], result["enforced"]) == (
        4 * MONO, "0.40", False)
    assert copy_txns(env) == [(result["session_key"], "alice", -4 * MONO)]
    assert summary["balance"] == 1000 - 4 * MONO
    [(_, state, stored)] = copy_rows(env)
    evidence = json.loads(stored or "null")
    truth = env.sim_client.counters()
    assert state == "settled" and evidence["end"]["ipp"] == truth["ipp_total"]


async def test_a_print_job_during_the_session_is_kept_apart(env: AgentEnv) -> None:
    job = await env.submit("alice", "during-copies.pdf", 5)
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 2)["copied"] == 2
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        printed = await env.wait_result(api, ticket["job_key"])
        assert copy(env, 1)["copied"] == 1
        await pages_live(api, 3)
        result = await api.call("copy.stop")
    assert env.sim_client.job(job)["printed"] == 5
    assert (printed["charged"], printed["review"]) == (5 * MONO, False)
    assert (result["pages"], result["prints_in_window"], result["counter_pages"]) == (3, 5, 3)
    assert (result["charged"], result["review"]) == (3 * MONO, False)


async def test_vendor_copy_counters_price_black_and_colour(split_env: AgentEnv) -> None:
    env = split_env
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 2)["copied"] == 2
        assert copy(env, 1, color=True)["copied"] == 1
        live = await pages_live(api, 3)
        result = await api.call("copy.stop")
    assert live["pages_by_kind"] == {"mono": 2, "colour": 1}
    assert (result["pages"], result["pages_by_kind"]) == (3, {"mono": 2, "colour": 1})
    assert (result["copy_counter_pages"], result["counter_pages"], result["source"]) == (
        3, 3, "copy-counters+counters")
    assert (result["charged"], result["review"]) == (2 * MONO + COLOUR, False)


async def test_pages_outside_any_copy_or_print_go_to_review(split_env: AgentEnv) -> None:
    """A job printed at the device without the terminal: the page counter moves, the copy
    counters do not. The larger count is charged and a person looks at it."""
    env = split_env
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 2)["copied"] == 2
        direct = env.sim_client.submit("direct.pdf", "someone", 3, hold=False)
        env.sim_client.wait_job(direct, ("completed",))
        result = await api.call("copy.stop")
    assert (result["copy_counter_pages"], result["counter_pages"]) == (2, 5)
    assert (result["state"], result["review"], result["pages"]) == ("review", True, 5)
    assert result["charged"] == 5 * MONO
    assert "copy counters show 2 pages and its page counter 5" in result["note"]


async def test_copy_counters_gone_at_the_end_go_to_review(split_env: AgentEnv) -> None:
    env = split_env
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 2)["copied"] == 2
        env.sim_client.device(snmp="timeout")
        result = await api.call("copy.stop")
    assert (result["copy_counter_pages"], result["counter_pages"]) == (None, 2)
    assert (result["review"], result["pages"], result["charged"]) == (True, 2, 2 * MONO)
    assert "copy counters could not be read" in result["note"]


async def test_logout_and_idle_end_the_session() -> None:
    env = counted_env(idle_timeout_s=1.5)
    try:
        async with env.client(login="alice") as api:
            await api.call("copy.start")
            assert copy(env, 2)["copied"] == 2
            await pages_live(api, 2)
            await api.call("session.logout")
            ended = await settled(api)
        assert (ended["reason"], ended["pages"], ended["charged"]) == ("logout", 2, 2 * MONO)
        async with env.client(login="bob") as api:
            await api.call("copy.start")
            idle = await settled(api)
        assert (idle["reason"], idle["pages"], idle["charged"]) == ("idle", 0, 0)
        assert [amount for _, _, amount in copy_txns(env)] == [-2 * MONO]
    finally:
        env.stop()


async def test_credit_used_up_ends_the_session_but_not_the_copier(env: AgentEnv) -> None:
    """Bob's 0.40 buys four pages: the session ends there by itself, but the copier
    cannot be stopped (nothing is enforced)."""
    async with env.client(login="bob") as api:
        assert (await api.call("copy.start"))["limit"] == 40
        assert copy(env, 4)["copied"] == 4
        result = await settled(api)
    assert (result["reason"], result["pages"], result["charged"]) == ("credit", 4, 40)
    assert copy(env, 1)["copied"] == 1  # still copying: nothing stops it


async def test_agent_killed_mid_session_settles_once_after_restart(env: AgentEnv) -> None:
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        assert copy(env, 3)["copied"] == 3
        await pages_live(api, 3)
        assert env.agent is not None
        env.agent.kill9()
    [(key, state, _)] = copy_rows(env)
    assert state == "open" and copy_txns(env) == []
    for _ in range(2):  # a second restart settles nothing again
        env.start_agent()
        wait_until(env, lambda: copy_rows(env)[0][1] != "open", "the session to settle")
        assert copy_txns(env) == [(key, "alice", -3 * MONO)]
        result = json.loads(copy_rows(env)[0][2] or "null")
        assert (result["reason"], result["pages"], result["review"]) == ("restart", 3, False)
        env.agent.stop()
