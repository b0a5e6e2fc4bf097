"""A live copy session while the serial line to the board changes, drops, splits and delays
bytes (`/sim/board/line`, bellows-ASH-style faults on the real pty): no false count, no
crash, the exact charge, and a plain-words log line for what was dropped.

The board's reports carry cumulative counters and are never resent, so a report lost on
the line costs nothing: the next one holds its pages. Commands are retransmitted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.agent_env import AgentEnv
from tests.e2e.test_copy_sessions import COLOUR, MONO, board, copy, copy_env, copy_txns

NOISY = {"corrupt": 0.002, "drop": 0.002, "split": 5, "delay_ms": 20, "seed": 7}
"""Per byte: about one report in five damaged, and a command answered at the first try
about three times in four; the lease (3 s, renewed every 1 s) never comes near lapsing."""
QUIETER = {"corrupt": 0.001, "drop": 0.001, "split": 3, "delay_ms": 10, "seed": 8}
"""Still damaged, but a command fails all 5 tries about once in 500,000: Stop and a new
session go through it."""


@pytest.fixture
def env() -> Iterator[AgentEnv]:
    made = copy_env()
    yield made
    made.stop()


async def progress_pages(api: Any) -> list[int]:
    """The live pages of every copy.progress received so far, in order."""
    shown = []
    with contextlib.suppress(TimeoutError):
        while True:
            note = await api.next_notification("copy.progress", 0.5)
            if note["state"] == "copying":
                shown.append(int(note["pages"]))
    return shown


def agent_log(env: AgentEnv) -> str:
    assert env.agent is not None
    return env.agent.output()


async def test_a_noisy_line_mid_session_gives_no_false_count_and_no_crash(env: AgentEnv
                                                                          ) -> None:
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        board(env, "/line", NOISY)
        made = [copy(env, 8), copy(env, 4, color=True), copy(env, 8)]
        line = board(env)["line"]
        board(env, "/line", QUIETER)
        result = await api.call("copy.stop")
        shown = await progress_pages(api)
        again = await api.call("copy.start")  # the agent and the board are still fine
        assert copy(env, 1)["copied"] == 1
        second = await api.call("copy.stop")
        quieter = board(env)["line"]
        board(env, "/line", {})
    assert [m["copied"] for m in made] == [8, 4, 8]
    assert shown == sorted(shown) and max(shown) <= 20, shown  # never ahead of the copier
    assert (result["pages"], result["pages_by_kind"]) == (20, {"mono": 16, "colour": 4})
    assert (result["board_pages"], result["counter_pages"], result["review"]) == (20, 20, False)
    assert result["charged"] == 16 * MONO + 4 * COLOUR
    assert (again["state"], second["charged"]) == ("copying", MONO)
    assert copy_txns(env) == [(result["session_key"], "alice", -(16 * MONO + 4 * COLOUR)),
                              (second["session_key"], "alice", -MONO)]
    stats = line["stats"]
    assert stats["corrupted"] > 0 and stats["dropped"] > 0 and stats["delayed"] > 0
    assert stats["pieces"] > stats["writes"]
    assert quieter["stats"]["pieces"] > quieter["stats"]["writes"] > 0
    state = board(env)
    assert (state["boots"], state["relay"]) == (1, False)  # the board never restarted
    assert env.agent is not None and env.agent.proc.poll() is None
    log = agent_log(env)
    assert re.search(r"copier board line: \d+ bytes? dropped before this frame, as no part"
                     r" of a valid frame \(noise on the line, or a frame damaged on the way\)",
                     log), log
    assert "Traceback" not in log


async def test_reports_lost_on_the_line_are_caught_up_by_the_next_one(env: AgentEnv
                                                                      ) -> None:
    """Everything the board says is lost while two pages are copied: those pages are never
    shown one by one, yet the next report that gets through counts them, and the charge
    is exact."""
    async with env.client(login="alice") as api:
        await api.call("copy.start")
        board(env, "/line", {"drop": 1.0, "direction": "to_host"})
        assert copy(env, 2)["copied"] == 2
        board(env, "/line", {})
        assert copy(env, 1)["copied"] == 1
        while (note := await api.next_notification("copy.progress"))["pages"] < 3:
            assert note["pages"] in (0, 2), note  # never 1: that report never arrived
        result = await api.call("copy.stop")
    assert (result["pages"], result["board_pages"], result["counter_pages"]) == (3, 3, 3)
    assert (result["charged"], result["review"]) == (3 * MONO, False)
    log = agent_log(env)
    assert re.search(r"copier board line: \d+ board reports? lost \(report \d+ came after"
                     r" \d+\); their pages are in this report's running totals", log), log
