"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.client import SimClient
from tests.agent_env import AgentEnv, make_env
from tests.helpers import SimHandle, start_sim
from tests.postgres import PostgresServer, start_server


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    """A fresh simulator on free ports, fast engine, no warm-up."""
    handle = start_sim()
    yield handle
    handle.child.stop()


@pytest.fixture
def sim_client(sim: SimHandle) -> SimClient:
    return SimClient(sim.control)


@pytest.fixture
def agent_env() -> Iterator[AgentEnv]:
    """The simulator and a real agent daemon in standalone mode, with alice and bob."""
    env = make_env()
    yield env
    env.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the session (started on first use); a database per test."""
    server = start_server()
    yield server
    server.stop()
