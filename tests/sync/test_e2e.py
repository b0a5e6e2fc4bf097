"""Central mode end to end: login through central's rpc, charges and refunds land once."""

from __future__ import annotations

from tests.sync.conftest import START, SyncEnv


async def test_login_by_code_goes_through_central(sync_env: SyncEnv) -> None:
    async with sync_env.agent.client(login="alice") as api:
        session = await api.call("session.status")
    assert session["user"] == "alice"
    assert session["offline"] is False
    assert session["balance"] == START["alice"]
