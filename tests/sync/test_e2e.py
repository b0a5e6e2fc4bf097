"""Central mode end to end: login through central's rpc, charges and refunds land once."""

from __future__ import annotations

from tests.sync.conftest import PRICE_MONO, START, SyncEnv


async def test_login_by_code_goes_through_central(sync_env: SyncEnv) -> None:
    async with sync_env.agent.client(login="alice") as api:
        session = await api.call("session.status")
    assert session["user"] == "alice"
    assert session["offline"] is False
    assert session["balance"] == START["alice"]


async def test_charge_and_refund_reach_central_exactly_once(sync_env: SyncEnv) -> None:
    env = sync_env.agent
    env.sim_client.job_faults(jam_at=3, jam_then="abort")
    job = await env.submit("alice", "jam.pdf", 10)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        stopped = await api.next_notification("job.progress")
        while stopped["state"] != "stopped":
            stopped = await api.next_notification("job.progress")
        env.sim_client.clear()
        result = await env.wait_result(api, ticket["job_key"])
        sync_env.wait_drained()
        summary = await api.call("account.summary")
    printed = int(env.sim_client.job(job)["printed"])
    assert (printed, result["charged"], result["refunded"]) == (3, 30, 70)
    rows = sync_env.central_rows()
    assert sorted((r.type, r.amount) for r in rows) == [("print", -100), ("refund", 70)]
    assert {r.txn_id for r in rows} == {str(t["txn_id"]) for t in sync_env.agent_txns()}
    assert all(r.job_id == ticket["job_key"] for r in rows)
    assert sync_env.central_balance("alice") == START["alice"] - printed * PRICE_MONO
    assert summary["balance"] == START["alice"] - printed * PRICE_MONO
    assert [t["amount"] for t in summary["transactions"]][:2] == [70, -100]
