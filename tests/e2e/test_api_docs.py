"""docs/api.md against the running agent: the documented objects have the fields it returns."""

from __future__ import annotations

import re

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
