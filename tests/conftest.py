"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.client import SimClient
from tests.helpers import SimHandle, start_sim


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    """A fresh simulator on free ports, fast engine, no warm-up."""
    handle = start_sim()
    yield handle
    handle.child.stop()


@pytest.fixture
def sim_client(sim: SimHandle) -> SimClient:
    return SimClient(sim.control)
