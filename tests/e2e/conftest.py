"""Helpers for end-to-end metering tests."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agent.api.client import ApiClient
from tests.agent_env import AgentEnv, make_env

EnvFactory = Callable[..., AgentEnv]
PRICE_MONO = 10  # minor units per impression, as in tests.agent_env's agent.toml


async def release_and_settle(env: AgentEnv, user: str, job_id: int,
                             api: ApiClient, timeout: float = 30.0) -> dict[str, Any]:
    [ticket] = await api.call("jobs.release", {"ids": [job_id]})
    return await env.wait_result(api, ticket["job_key"], timeout)


async def release_with_copy_during(env: AgentEnv, name: str, pages: int = 6,
                                   copy_pages: int = 3) -> tuple[dict[str, Any], int, int]:
    """Release alice's job and, while it waits for paper at page 2, make a walk-up copy.
    Returns the job's result, its device job id and the copy's; both printed in full."""
    sim = env.sim_client
    sim.job_faults(paper_out_at=2)
    job = await env.submit("alice", name, pages)
    async with env.client(login="alice") as api:
        [ticket] = await api.call("jobs.release", {"ids": [job]})
        sim.wait_for(lambda s: s["faults"]["paper_out"], what="paper out")
        copy = sim.copy(copy_pages)
        sim.clear()
        result = await env.wait_result(api, ticket["job_key"])
    assert (printed(env, job), sim.job(copy)["printed"]) == (pages, copy_pages)
    return result, job, copy


def step_evidence(env: AgentEnv, job_key: str, step: str) -> dict[str, Any]:
    """What the agent recorded at one step of the job, read from its ledger as an auditor
    would: the last record of that step."""
    with sqlite3.connect(f"file:{env.dir}/ledger.db?mode=ro", uri=True) as db:
        rows = db.execute("SELECT data FROM evidence WHERE job_key = ? AND step = ?"
                          " ORDER BY id", (job_key, step)).fetchall()
    assert rows, f"no {step} evidence for job {job_key}"
    return dict(json.loads(rows[-1][0]))


def final_evidence(env: AgentEnv, job_key: str) -> dict[str, Any]:
    """The evidence the agent settled the job on."""
    return step_evidence(env, job_key, "final")


def printed(env: AgentEnv, job_id: int) -> int:
    """Ground truth: impressions the simulated engine marked for this job."""
    return int(env.sim_client.job(job_id)["printed"])


@pytest.fixture
def env_with() -> Iterator[EnvFactory]:
    """`env_with(*sim_args, **make_env_options)`: an agent_env with other settings, stopped
    after the test."""
    made: list[AgentEnv] = []

    def make(*sim_args: str, **options: Any) -> AgentEnv:
        made.append(make_env(*sim_args, **options))
        return made[-1]

    yield make
    for env in made:
        env.stop()
