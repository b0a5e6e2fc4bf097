"""Helpers for end-to-end metering tests."""

from __future__ import annotations

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
