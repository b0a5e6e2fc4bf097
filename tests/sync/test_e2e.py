"""Central mode end to end: login through central's rpc, charges and refunds land once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.api.client import ApiClient
from agent.api.protocol import ApiError
from contract import decode_acks, decode_status, decode_txn
from tests.agent_env import CODES, AgentEnv
from tests.sync.conftest import DEVICE, PRICE_MONO, SITE, START, SyncEnv


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


async def _print(env: AgentEnv, api: ApiClient, name: str, pages: int) -> dict[str, Any]:
    job = await env.submit("alice", name, pages)
    [ticket] = await api.call("jobs.release", {"ids": [job]})
    return await env.wait_result(api, ticket["job_key"])


async def test_outside_observer_sees_the_txn_and_the_retained_status(sync_env: SyncEnv) -> None:
    root = f"pagetally/v1/{SITE}/{DEVICE}"
    # the retained status arrives first, which also proves the observer is subscribed
    cmd = sync_env.broker.sub_command(f"{root}/status", "-t", f"{root}/txn", "-t",
                                      f"{root}/ack", "-C", "3", "-W", "20")
    observer = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    assert observer.stdout is not None
    try:
        first = (await asyncio.wait_for(observer.stdout.readline(), 10)).decode()
        status_topic, status_json = first.strip().split(" ", 1)
        assert status_topic == f"{root}/status"
        assert decode_status(status_json).online is True
        async with sync_env.agent.client(login="alice") as api:
            result = await _print(sync_env.agent, api, "seen.pdf", 2)
        out = (await asyncio.wait_for(observer.stdout.read(), 10)).decode()
    finally:
        if observer.returncode is None:
            observer.kill()
        await observer.wait()
    seen = dict(line.split(" ", 1) for line in out.strip().splitlines())
    # the agent announces contract v1.1, so its ack comes as a batch (of one here)
    txn, [ack] = decode_txn(seen[f"{root}/txn"]), decode_acks(seen[f"{root}/ack"])
    assert seen[f"{root}/ack"].startswith('{"acks":')
    assert (txn.user, txn.type, txn.amount, txn.site, txn.device) == (
        "alice", "print", -2 * PRICE_MONO, SITE, DEVICE)
    assert txn.job is not None and txn.job.job_id == result["job_key"]
    assert (ack.txn_id, ack.status, ack.balance) == (
        txn.txn_id, "applied", START["alice"] - 2 * PRICE_MONO)
    assert sync_env.agent.agent is not None
    sync_env.agent.agent.stop()  # the retained status must not keep saying "online"
    cmd = sync_env.broker.sub_command(f"{root}/status", "-C", "1", "-W", "5")
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    out_status, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert decode_status(out_status.decode().split(" ", 1)[1]).online is False


async def test_offline_is_reported_honestly_and_reconciled(sync_env: SyncEnv) -> None:
    env = sync_env.agent
    async with env.client(login="alice") as api:  # alice is now in the offline cache
        await _print(env, api, "before.pdf", 1)
        assert (await api.call("printer.status"))["online"] is True
    sync_env.wait_drained()
    sync_env.broker.stop()
    async with env.client() as api:
        for _ in range(50):  # the link notices the lost broker within one read
            if not (await api.call("printer.status"))["online"]:
                break
            await asyncio.sleep(0.05)
        assert (await api.call("printer.status"))["online"] is False
        with pytest.raises(ApiError) as refused:
            await api.call("session.login", {"code": CODES["bob"]})
        assert "offline" in refused.value.message.lower()
        session = await api.call("session.login", {"code": CODES["alice"]})
        assert (session["user"], session["offline"]) == ("alice", True)
        assert session["balance"] == START["alice"] - PRICE_MONO
        await _print(env, api, "offline-1.pdf", 3)
        await _print(env, api, "offline-2.pdf", 4)
        summary = await api.call("account.summary")
        assert summary["balance"] == START["alice"] - 8 * PRICE_MONO  # cached + unacked
    pending = [t for t in sync_env.agent_txns() if t["outbox"] == "pending"]
    assert len(pending) == 2
    sync_env.broker.start()
    sync_env.wait_drained()
    rows = sync_env.central_rows()
    assert sorted(r.txn_id for r in rows) == sorted(str(t["txn_id"])
                                                    for t in sync_env.agent_txns())
    assert sync_env.central_balance("alice") == START["alice"] - 8 * PRICE_MONO
    async with env.client() as api:
        for _ in range(50):
            if (await api.call("printer.status"))["online"]:
                break
            await asyncio.sleep(0.05)
        assert (await api.call("printer.status"))["online"] is True
