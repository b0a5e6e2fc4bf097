"""The session life's phases on a scripted evidence: the order they run in, retries, recovery.

The life is sequencing between a kind's evidence and the panel; here the evidence is
scripted (as the follower's tests script the device), so a failure the budget cures, one it
does not, and one the life must not swallow can each be shown. Prints and copies run it for
real in tests/e2e (test_metering, test_job_never_blocks, test_copy_sessions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from agent.api.methods import Notification
from agent.session.life import Retry, SessionLife

PROGRESS = Notification[str]("test.progress", str)
T = TypeVar("T")


class Flaky(Exception):
    """A failure asking again may cure."""


class Evidence:
    """Sessions by key: a script of what `opened` does on each try ("ok", "ended" for a
    session that ended before it was let go, or an exception to raise)."""

    def __init__(self, scripts: dict[str, list[str | Exception]],
                 open_before: list[str] | None = None) -> None:
        self.scripts = scripts
        self.open_before = open_before or []
        self.calls: list[str] = []

    def left_open(self) -> list[str]:
        return list(self.open_before)

    async def opened(self, key: str) -> str | None:
        step = self.scripts[key].pop(0)
        self.calls.append(f"opened {key}")
        if isinstance(step, Exception):
            raise step
        return None if step == "ended" else key

    async def follow(self, session: str, shown: Callable[[str], None]) -> int:
        self.calls.append(f"follow {session}")
        shown(f"{session} 1 page")
        shown(f"{session} 2 pages")
        return 2

    async def settle(self, session: str, followed: int) -> str:
        self.calls.append(f"settle {session}")
        return f"{session}: {followed} pages"


class Budget:
    def __init__(self, tries: int) -> None:
        self.left = tries

    def spend(self, exc: Exception, now: float) -> bool:
        self.left -= 1
        return self.left <= 0


class Told:
    """What the life told the panel, and the sessions it gave up on."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self.gave_up: list[str] = []


def life(evidence: Evidence, told: Told, tries: int | None = None
         ) -> SessionLife[str, int, str, str]:
    notes, gave_up = told.notes, told.gave_up

    def notify(note: Notification[T], params: T) -> None:
        notes.append((note.name, str(params)))

    async def give_up(key: str, exc: Exception) -> str:
        gave_up.append(f"{key}: {exc}")
        return f"{key}: review"

    retry = None if tries is None else Retry(faults=(Flaky,), budget=lambda: Budget(tries),
                                             interval=0.0, give_up=give_up)
    return SessionLife(evidence, notify=notify, progress=PROGRESS, retry=retry)


async def test_a_session_is_opened_followed_with_its_progress_shown_then_settled() -> None:
    evidence, told = Evidence({"a": ["ok"]}), Told()
    assert await life(evidence, told).live("a") == "a: 2 pages"
    assert evidence.calls == ["opened a", "follow a", "settle a"]
    assert told.notes == [("test.progress", "a 1 page"), ("test.progress", "a 2 pages")]


async def test_a_session_that_ended_before_it_was_let_go_is_neither_followed_nor_settled(
        ) -> None:
    evidence, told = Evidence({"a": ["ended"]}), Told()
    assert await life(evidence, told, tries=3).live("a") is None
    assert evidence.calls == ["opened a"]
    assert told.notes == [] and told.gave_up == []


async def test_a_failure_the_budget_cures_is_asked_again() -> None:
    evidence, told = Evidence({"a": [Flaky("no answer"), "ok"]}), Told()
    assert await life(evidence, told, tries=3).live("a") == "a: 2 pages"
    assert evidence.calls == ["opened a", "opened a", "follow a", "settle a"]
    assert told.gave_up == []


async def test_out_of_budget_the_session_is_given_up_once_and_not_settled() -> None:
    evidence = Evidence({"a": [Flaky("refused"), Flaky("refused"), Flaky("refused"), "ok"]})
    told = Told()
    assert await life(evidence, told, tries=3).live("a") == "a: review"
    assert evidence.calls == ["opened a"] * 3
    assert told.gave_up == ["a: refused"]


async def test_each_session_gets_a_budget_of_its_own() -> None:
    evidence = Evidence({"a": [Flaky("1"), Flaky("2")], "b": [Flaky("3"), "ok"]})
    told = Told()
    runs = life(evidence, told, tries=2)
    assert await runs.live("a") == "a: review"
    assert await runs.live("b") == "b: 2 pages"
    assert told.gave_up == ["a: 2"]


async def test_other_errors_and_a_life_without_retries_end_the_life() -> None:
    evidence = Evidence({"a": [ValueError("a bug")], "b": [Flaky("no answer")]})
    with pytest.raises(ValueError, match="a bug"):
        await life(evidence, Told(), tries=3).live("a")
    with pytest.raises(Flaky):
        await life(evidence, Told()).live("b")


async def test_recover_settles_what_an_earlier_run_left_open_oldest_first() -> None:
    evidence = Evidence({"old": ["ok"], "older": ["ended"]}, open_before=["older", "old"])
    await life(evidence, Told()).recover()
    assert evidence.calls == ["opened older", "opened old", "follow old", "settle old"]


async def test_finish_follows_and_settles_a_session_its_caller_opened() -> None:
    evidence, told = Evidence({}), Told()
    assert await life(evidence, told).finish("copy") == "copy: 2 pages"
    assert evidence.calls == ["follow copy", "settle copy"]
    assert [params for _, params in told.notes] == ["copy 1 page", "copy 2 pages"]
