"""A running agent answers exactly the API's Structs, which docs/api.md documents
(tests/unit/test_api_docs.py holds the doc to the Structs).

Every answer in a login → list → release → settle → delete → logout round is decoded
strictly with its method's type (a field more, less or of another type fails), and so is
every notification a second, raw subscriber receives meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from agent.api.client import ApiClient, ApiError
from agent.api.methods import METHODS, NOTIFICATIONS, convert
from agent.api.payloads import (
    Account,
    Deleted,
    HeldJob,
    JobStatus,
    LoggedOut,
    Ok,
    PrinterStatus,
    Release,
    Session,
    Touched,
)
from tests.agent_env import CODES, AgentEnv
from tests.helpers import ROOT

API_DOC = ROOT / "docs" / "api.md"


def documented_fields(name: str) -> list[str]:
    """The field names of one object as docs/api.md writes it:
    `Name`: `{"a", "b": type, "c": "x"|"y" (note), ...}` (possibly over several lines)."""
    found = re.search(rf"^`{name}`: `\{{(.*?)\}}`", API_DOC.read_text(), re.M | re.S)
    assert found, f"docs/api.md has no `{name}` object"
    fields = []
    for part in re.split(r",\s*", found[1]):
        key = re.match(r'"([a-z_]+)"', part)
        if key:
            fields.append(key[1])
    return fields


async def test_documented_session_fields_are_what_login_returns(agent_env: AgentEnv) -> None:
    documented = documented_fields("Session")
    async with agent_env.client() as api:
        login = await api.call("session.login", {"code": CODES["alice"]})
        pushed = await api.next_notification("session")
        status = await api.call("session.status")
    assert sorted(login) == sorted(documented), "docs/api.md `Session` is out of date"
    assert sorted(pushed) == sorted(status) == sorted(login)
    assert login["method"] == "code"


async def typed(api: ApiClient, method: str, params: dict[str, Any] | None = None) -> Any:
    """The answer, decoded strictly as the method's result type."""
    return convert(await api.call(method, params), METHODS[method].result)


async def raw_notifications(socket: str, out: list[tuple[str, Any]],
                            subscribed: asyncio.Event) -> None:
    """Subscribe on a bare socket and keep every notification line, decoded strictly, until
    the one that says the session ended."""
    reader, writer = await asyncio.open_unix_connection(socket)
    try:
        writer.write(b'{"jsonrpc":"2.0","method":"subscribe","id":1}\n')
        assert json.loads(await reader.readline())["result"] == {"ok": True}
        subscribed.set()
        while line := await reader.readline():
            msg = json.loads(line)
            params = convert(msg["params"], NOTIFICATIONS[msg["method"]].params)
            out.append((msg["method"], params))
            if isinstance(params, LoggedOut):
                return
    finally:
        writer.close()


async def test_every_answer_and_notification_decodes_as_its_struct(agent_env: AgentEnv
                                                                   ) -> None:
    kept = await agent_env.submit("alice", "kept.pdf", 2)
    dropped = await agent_env.submit("alice", "dropped.pdf", 1)
    notes: list[tuple[str, Any]] = []
    subscribed = asyncio.Event()
    async with agent_env.client() as api:
        watcher = asyncio.create_task(raw_notifications(agent_env.socket_path, notes,
                                                        subscribed))
        await asyncio.wait_for(subscribed.wait(), 10)
        printer = await typed(api, "printer.status")
        assert isinstance(printer, PrinterStatus)
        assert not printer.copier and not printer.copy_enforced  # no copier: nothing to enforce
        assert await typed(api, "session.status") is None

        session = await typed(api, "session.login", {"code": CODES["alice"]})
        assert isinstance(session, Session) and session.user == "alice"
        assert isinstance(await typed(api, "session.touch"), Touched)
        held = await typed(api, "jobs.list")
        assert {j.id for j in held} == {kept, dropped}
        assert all(isinstance(j, HeldJob) and j.estimate_kind == "counted" for j in held)
        assert await typed(api, "jobs.expired") == []
        assert await typed(api, "copy.status") is None
        with pytest.raises(ApiError) as no_board:
            await api.call("copy.start")
        assert no_board.value.kind == "copy-unavailable"

        [ticket] = await typed(api, "jobs.release", {"ids": [kept]})
        assert isinstance(ticket, Release) and ticket.id == kept
        result = convert(await agent_env.wait_result(api, ticket.job_key), JobStatus)
        assert (result.state, result.printed, result.charged) == ("settled", 2, 20)
        assert await typed(api, "jobs.status", {"job_key": ticket.job_key}) == result
        account = await typed(api, "account.summary")
        assert isinstance(account, Account) and account.transactions[0].amount == -20
        assert await typed(api, "jobs.delete", {"ids": [dropped]}) == Deleted(
            deleted=[dropped])
        assert await typed(api, "session.logout", {}) == Ok()
        await asyncio.wait_for(watcher, 30)

    assert [p for name, p in notes if name == "session"] == [
        session, LoggedOut(reason="logout", previous="alice")]
    assert [p for name, p in notes if name == "job.result"] == [result]
    assert all(isinstance(p, JobStatus) for name, p in notes if name == "job.progress")
