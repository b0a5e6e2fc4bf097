"""Answers and notifications the panel cannot decode: a logged error and a plain message,
never a crash; the ones it can are Structs with attributes.

The real agent only sends what agent/api/payloads.py describes, so the panel's partner here
is a small agent stand-in on a real Unix socket, speaking the same JSON-RPC lines
(agent.api.protocol) and answering from a table, as a printer test uses a UDP peer that
answers junk.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from agent.api import protocol
from agent.api.methods import PRINTER_STATUS, SESSION_STATUS
from agent.api.params import NoParams
from agent.api.payloads import Counters, PrinterStatus, Session
from tests.panel.driver import PanelDriver, start_panel
from ui import strings
from ui.agent_api import AgentApi, BadAnswer

PRINTER = PrinterStatus(name="Library MFD", state="idle", reasons=[], alerts=[],
                        counters=Counters(snmp=1, ipp=1), problems=[], online=True,
                        copier=False, copy_enforced=False)
GOOD = msgspec.to_builtins(PRINTER)
BAD = {**GOOD, "online": "yes"}  # text where the API says true or false
WHY = ("The agent's answer to printer.status is invalid: expected true or false, got text "
       "(at field 'online')")


class AgentStandIn:
    """Answers each request from `answers` (JSON values as sent) and pushes notifications
    to every connected client; `after` pushes some right after answering a method."""

    def __init__(self, answers: dict[str, Any],
                 after: dict[str, list[tuple[str, Any]]] | None = None) -> None:
        self.answers = answers
        self.after = after or {}
        self.writers: list[asyncio.StreamWriter] = []
        self.path = Path(tempfile.mkdtemp(prefix="api-")) / "agent.sock"
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._serve, str(self.path))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        while line := await reader.readline():
            request = protocol.parse_request(line)
            writer.write(protocol.result(request.id, self.answers[request.method]))
            for method, params in self.after.get(request.method, []):
                writer.write(protocol.notification(method, params))
            await writer.drain()

    def push(self, method: str, params: Any) -> None:
        for writer in self.writers:
            writer.write(protocol.notification(method, params))

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


@pytest.fixture
async def stand_in() -> AsyncIterator[AgentStandIn]:
    agent = AgentStandIn({"subscribe": {"ok": True}, "printer.status": BAD,
                          "session.status": None},
                         after={"session.status": [("printer", GOOD)]})
    await agent.start()
    yield agent
    await agent.close()


async def test_the_edge_decodes_structs_and_names_what_does_not_decode(
        stand_in: AgentStandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="pagetally.panel")
    api = await AgentApi.connect(str(stand_in.path))
    try:
        with pytest.raises(BadAnswer) as bad:
            await api.call(PRINTER_STATUS, NoParams())
        assert (bad.value.kind, bad.value.message, bad.value.detail) == (
            "bad-answer", strings.ERROR_BAD_ANSWER, WHY)
        assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.ERROR, WHY)]
        assert await api.call(SESSION_STATUS, NoParams()) is None
        stand_in.answers["printer.status"] = GOOD
        assert await api.call(PRINTER_STATUS, NoParams()) == PRINTER
        stand_in.push("printer", {**GOOD, "state": "on fire"})
        stand_in.push("someday.new", {"anything": 1})  # a newer agent's: skipped
        stand_in.push("session", {"user": "alice", "display_name": "Alice", "balance": 250,
                                  "balance_text": "2.50", "offline": False, "method": "code",
                                  "expires_in": 60})
        notes = api.notifications()
        # the printer notification (after session.status) comes first, then the pushed ones
        assert await anext(notes) == ("printer", PRINTER)
        name, payload = await anext(notes)
        assert name == "printer" and isinstance(payload, BadAnswer)
        assert payload.detail == ("The agent's 'printer' notification is invalid: invalid "
                                  "enum value 'on fire' (at field 'state')")
        name, payload = await anext(notes)
        assert name == "session" and isinstance(payload, Session)
        assert (payload.user, payload.balance, payload.balance_text) == ("alice", 250, "2.50")
    finally:
        await api.close()


async def test_the_panel_shows_a_bad_answer_in_plain_words_and_carries_on(
        stand_in: AgentStandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="pagetally.panel")
    panel: PanelDriver = await start_panel(str(stand_in.path))  # waits for the printer
    try:
        idle = panel.app.idle_screen()
        assert idle.banner.text == strings.ERROR_BAD_ANSWER
        assert (idle.header.title.text, idle.printer_state.text) == (
            "Library MFD", strings.PRINTER_STATE["idle"])
        assert WHY in [r.getMessage() for r in caplog.records]
        idle.banner.clear()
        stand_in.push("printer", {**GOOD, "alerts": "none"})
        await panel.wait(lambda: idle.banner.text == strings.ERROR_BAD_ANSWER,
                         what="the bad notification shown")
        stand_in.push("printer", {**GOOD, "state": "printing"})
        await panel.wait(lambda: idle.printer_state.text == strings.PRINTER_STATE["printing"],
                         what="the next good notification shown")
        assert not panel.task.done() and panel.app.current_screen() == "idle"
    finally:
        await panel.stop()
