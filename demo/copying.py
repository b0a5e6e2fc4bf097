"""The demo's copy session: alice at the copier, through the agent's API as the panel does it.

The simulated copier sits behind the simulated copier board (the real firmware core on a
pty). It copies only while the board's relay enables it and sends a pulse per page, which
the board counts; the agent enables it with a limit from alice's credit, shows each page,
and settles one `copy` transaction against the device's own counters when she presses Stop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from agent.api.client import ApiClient
from demo.scenario import Timing
from demo.world import money, user
from simulator.client import SimClient

COPIER = "alice"
MONO_PAGES = 4
COLOUR_PAGES = 2


@dataclass
class CopyStory:
    """What happened at the copier, for the statement and the checks."""

    user: str
    made: dict[str, int] = field(default_factory=dict)  # pages the copier made, by kind
    refused_after: int = 0  # pages a walk-up copy got after Stop
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return sum(self.made.values())


async def copy_session(socket_path: str, sim: SimClient, timing: Timing) -> CopyStory:
    story = CopyStory(COPIER)
    api = await ApiClient.connect(socket_path)
    try:
        await api.call("subscribe")
        session = await api.call("session.login", {"code": user(COPIER).code})
        print(f"  {COPIER} enters an access code at the device: logged in as"
              f" {session['display_name']}, balance {session['balance_text']}")
        started = await api.call("copy.start")
        print(f"  {COPIER} presses Copy on the panel: the board switches the copier on,"
              f" up to {money(int(started['limit']))} of copies (her credit)")
        for kind, pages, color in (("mono", MONO_PAGES, False),
                                   ("colour", COLOUR_PAGES, True)):
            await asyncio.sleep(timing.pause_s)
            print(f"  {COPIER} copies {pages} pages in {kind}")
            run = asyncio.create_task(asyncio.to_thread(sim.board_copy, pages, color))
            await show_pages(api, story.pages + pages, timing.job_timeout_s)
            story.made[kind] = int((await run)["copied"])
        await asyncio.sleep(timing.pause_s)
        print(f"  {COPIER} presses Stop")
        story.result = await api.call("copy.stop")
        r = story.result
        print(f"    settled: {r['pages']} pages ({kinds_text(r['pages_by_kind'])}), charged"
              f" {money(int(r['charged']))}; the board counted {r['board_pages']}, the"
              f" device's counters {r['counter_pages']}")
        story.refused_after = int((await asyncio.to_thread(sim.board_copy, 1))["refused"])
        print("  someone tries to copy after Stop: the copier refuses"
              if story.refused_after else "  after Stop the copier still copies!")
        await api.call("session.logout")
        print(f"  {COPIER} logs out")
    finally:
        await api.close()
    return story


async def show_pages(api: ApiClient, upto: int, timeout: float) -> None:
    """Print the pages as `copy.progress` shows them, until `upto` pages are counted."""
    shown = -1
    async with asyncio.timeout(timeout):
        while shown < upto:
            note = await api.next_notification("copy.progress", timeout)
            if note["state"] == "copying" and note["pages"] > shown:
                shown = int(note["pages"])
                if shown:
                    print(f"    {shown} {'page' if shown == 1 else 'pages'} copied,"
                          f" {note['cost_text']} so far")


def kinds_text(by_kind: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in by_kind.items())
