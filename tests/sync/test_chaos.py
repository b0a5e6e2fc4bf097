"""Chaos between the agent and central: the broker goes away, the agent dies, deliveries repeat.

Central being killed mid-ingest is tests/central/test_chaos.py; a raw device repeating a
txn is tests/central/test_service.py. Here the txns come from a real agent metering real
(simulated) jobs, and the money at central is checked against the simulator's ground truth.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from contract import decode_acks, topic
from tests.mosquitto import password_of
from tests.sync.conftest import (
    DEVICE,
    PRICE_MONO,
    SITE,
    START,
    SyncEnv,
    start_sync_env,
    stop_sync_env,
    wait_until,
)


def ground_truth(env: SyncEnv, job_ids: list[int]) -> int:
    """Impressions the simulated engine really marked for these jobs."""
    jobs = {j["id"]: j for j in env.agent.sim_client.state()["jobs"]}
    return sum(int(jobs[i]["printed"]) for i in job_ids)


def assert_exactly_once(env: SyncEnv) -> None:
    """Central holds each agent txn once, none else, and no txn was rejected."""
    mine = {str(t["txn_id"]): t["amount"] for t in env.agent_txns()}
    rows = env.central_rows()
    assert sorted(r.txn_id for r in rows) == sorted(mine)
    assert all(r.amount == mine[r.txn_id] for r in rows)
    ledger = env.central.ledger()
    try:
        assert ledger.rejections() == []
    finally:
        ledger.close()


def unfinished_jobs(env: SyncEnv) -> int:
    con = sqlite3.connect(env.agent.dir / "ledger.db")
    try:
        row = con.execute("SELECT COUNT(*) FROM jobs WHERE state IN"
                          " ('snapshotting', 'released', 'following')").fetchone()
        return int(row[0])
    finally:
        con.close()


async def test_broker_stopped_mid_run_every_txn_applied_once(sync_env: SyncEnv) -> None:
    env, sim = sync_env.agent, sync_env.agent.sim_client
    job_ids = []
    async with env.client(login="alice") as api:
        for i in range(8):
            job = await env.submit("alice", f"chaos-{i}.pdf", 6 if i == 3 else 2)
            job_ids.append(job)
            [ticket] = await api.call("jobs.release", {"ids": [job]})
            if i == 3:  # the broker goes away while this job is printing
                sim.wait_for(lambda s, j=job: any(x["id"] == j and x["printed"] > 0
                                                  for x in s["jobs"]), what="printing")
                sync_env.broker.stop()
            await env.wait_result(api, ticket["job_key"])
            if i == 5:
                assert (await api.call("printer.status"))["online"] is False
                sync_env.broker.start()
    sync_env.wait_drained()
    assert_exactly_once(sync_env)
    printed = ground_truth(sync_env, job_ids)
    assert printed == 6 + 7 * 2
    assert sync_env.central_balance("alice") == START["alice"] - printed * PRICE_MONO


@pytest.fixture
def fast_env(tmp_path: Path) -> Iterator[SyncEnv]:
    env = start_sync_env(tmp_path, ppm=12000, poll_interval_s=0.03)
    yield env
    stop_sync_env(env)


async def test_agent_killed_at_random_points_over_200_jobs(fast_env: SyncEnv) -> None:
    env, sim = fast_env.agent, fast_env.agent.sim_client
    rng = random.Random(4)
    job_ids = [sim.submit(f"job-{i}.pdf", "alice", rng.randint(1, 3)) for i in range(200)]
    async with env.client(login="alice") as api:
        assert len(await api.call("jobs.release", {"all": True})) == 200
    for _ in range(5):  # the agent meters one job at a time; each kill lands mid-run
        await asyncio.sleep(rng.uniform(0.5, 6.0))
        assert env.agent is not None
        env.agent.kill9()
        env.start_agent()  # resumes the released jobs from its ledger
    wait_until(lambda: unfinished_jobs(fast_env) == 0, 120, "all 200 jobs metered")
    async with env.client(login="alice") as api:
        assert await api.call("jobs.list") == []
    fast_env.wait_drained(60)
    truth = {j["id"]: j for j in sim.state()["jobs"]}
    assert all(truth[i]["state"] == "completed" for i in job_ids)
    assert_exactly_once(fast_env)
    printed = ground_truth(fast_env, job_ids)
    assert printed == sum(int(truth[i]["impressions"]) for i in job_ids)
    assert fast_env.central_balance("alice") == START["alice"] - printed * PRICE_MONO


async def test_redelivered_txn_is_applied_once_and_acked_duplicate(sync_env: SyncEnv) -> None:
    """The broker may deliver a txn twice; here a second client of the device repeats it."""
    env = sync_env.agent
    job = await env.submit("alice", "once.pdf", 2)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        await env.wait_result(api, ticket["job_key"])
    sync_env.wait_drained()
    [charge] = sync_env.agent_txns()
    txn_id = str(charge["txn_id"])
    acks: list[bytes] = []  # the device speaks v1.1: repeats in one commit share a batch
    replayer = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="replayer",
                           protocol=MQTTProtocolVersion.MQTTv5)
    replayer.username_pw_set(DEVICE, password_of(DEVICE))
    replayer.on_message = lambda _c, _u, m: acks.append(m.payload)
    replayer.on_subscribe = lambda *_: subscribed.set()
    subscribed = threading.Event()
    replayer.connect("127.0.0.1", sync_env.broker.port)
    replayer.loop_start()
    try:
        replayer.subscribe(topic(SITE, DEVICE, "ack"), qos=1)
        assert subscribed.wait(5)
        payload = _replay_payload(sync_env, txn_id)
        for _ in range(3):
            replayer.publish(topic(SITE, DEVICE, "txn"), payload, qos=1)
        wait_until(lambda: sum(len(decode_acks(a)) for a in acks) >= 3, 10, "three acks")
    finally:
        replayer.disconnect()
        replayer.loop_stop()
    assert [(str(a.txn_id), a.status) for m in acks for a in decode_acks(m)] == [
        (txn_id, "duplicate")] * 3
    assert [r.txn_id for r in sync_env.central_rows()] == [txn_id]
    assert sync_env.central_balance("alice") == START["alice"] - 2 * PRICE_MONO
    [after] = sync_env.agent_txns()  # the agent saw the repeats too and kept its first ack
    assert (after["outbox"], after["ack_status"]) == ("acked", "applied")


def _replay_payload(env: SyncEnv, txn_id: str) -> bytes:
    """The exact bytes the agent publishes for this txn, rebuilt from its ledger."""
    from agent.ledger import Ledger
    from agent.sync.payload import txn_payload
    from contract import encode

    ledger = Ledger(env.agent.dir / "ledger.db", device=DEVICE, site=SITE)
    try:
        [txn] = [t for t in ledger.txns() if t.txn_id == txn_id]
        return encode(txn_payload(txn, site=SITE, device=DEVICE))
    finally:
        ledger.close()
