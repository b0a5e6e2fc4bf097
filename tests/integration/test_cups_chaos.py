"""Chaos on the CUPS hold-queue path: a private cupsd holds the jobs, the simulator prints
them with random faults, titles and users repeat, and the agent is killed with SIGKILL at
random moments. Every job must end exact to the page, or in review charged no less than
the pages that came out; and each release must be metered from its own device job.

The seed is printed and can be set with PAGETALLY_CHAOS_SEED to replay a run.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from agent.api.client import ApiClient
from agent.identity.accounts import hash_secret
from drivers.ipp.client import IppClient
from tests.agent_env import AgentEnv, make_env
from tests.integration.conftest import AddQueue
from tests.integration.test_cups_agent import pdf, start_cups_agent

SEED = int(os.environ.get("PAGETALLY_CHAOS_SEED", "20261130"))
JOBS = 16
PRICE = 10  # minor units per mono impression, as in tests.agent_env's agent.toml
USERS = {"ann": "318642", "ben": "429753"}
TITLES = ("report.pdf", "slides.pdf", "report.pdf", "notes.pdf")  # report.pdf most often
FAULTS = ("none", "none", "jam-abort", "jam-continue", "paper-out", "cancel-at-device",
          "copy-during", "counter-reset")


@dataclass(frozen=True)
class Plan:
    user: str
    title: str
    pages: int
    fault: str
    at: int
    kill_after: float | None
    down_until_done: bool
    """Stay down until the device has finished the job, as after a power cut."""


def make_plan(rng: random.Random) -> Plan:
    pages = rng.randint(1, 6)
    return Plan(user=rng.choice(list(USERS)), title=rng.choice(TITLES), pages=pages,
                fault=rng.choice(FAULTS), at=rng.randint(0, pages - 1),
                kill_after=rng.uniform(0.0, 1.2) if rng.random() < 0.6 else None,
                down_until_done=rng.random() < 0.5)


def arm(env: AgentEnv, plan: Plan) -> None:
    """Faults for the next job to reach the device: CUPS forwards it under a new id."""
    sim = env.sim_client
    if plan.fault in ("jam-abort", "jam-continue"):
        sim.job_faults(jam_at=plan.at, jam_then=plan.fault.removeprefix("jam-"))
    elif plan.fault == "cancel-at-device":
        sim.job_faults(cancel_at=plan.at)
    elif plan.fault in ("paper-out", "copy-during", "counter-reset"):
        sim.job_faults(paper_out_at=plan.at)


@asynccontextmanager
async def signed_in(env: AgentEnv, user: str) -> AsyncIterator[ApiClient]:
    api = await ApiClient.connect(env.socket_path)
    try:
        await api.call("session.login", {"code": USERS[user]})
        yield api
    finally:
        await api.close()


class Operator:
    """The person at the printer: clears jams and loads paper, first making the planned
    walk-up copy or service reset of the counters, whether or not the terminal is up."""

    def __init__(self, env: AgentEnv, plan: Plan) -> None:
        self.sim = env.sim_client
        self.plan = plan
        self.acted = False

    async def look(self) -> dict[str, Any]:
        state: dict[str, Any] = await asyncio.to_thread(self.sim.state)
        if state["faults"]["jammed"] or state["faults"]["paper_out"]:
            if not self.acted and self.plan.fault == "copy-during":
                await asyncio.to_thread(self.sim.copy, 2)
            if not self.acted and self.plan.fault == "counter-reset":
                await asyncio.to_thread(self.sim.reset_counters)
            self.acted = True
            await asyncio.to_thread(self.sim.clear)
        return state

    async def until_device_done(self) -> None:
        for _ in range(600):
            state = await self.look()
            if state["jobs"] and all(j["state"] in ("completed", "canceled", "aborted")
                                     for j in state["jobs"]):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"device never finished ({self.plan})")

    async def until_settled(self, api: ApiClient, job_key: str) -> dict[str, Any]:
        for _ in range(600):
            status: dict[str, Any] = await api.call("jobs.status", {"job_key": job_key})
            if status["state"] in ("settled", "review"):
                return status
            await self.look()
            await asyncio.sleep(0.1)
        raise AssertionError(f"job {job_key} ({self.plan}) not settled within 60 s")


def ledger_jobs(env: AgentEnv) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(f"file:{env.dir}/ledger.db?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return {r["job_key"]: dict(r) for r in db.execute("SELECT * FROM jobs")}


@pytest.mark.slow
async def test_cups_path_under_kills_and_faults(cups_queue: AddQueue) -> None:
    rng = random.Random(SEED)
    print(f"CUPS chaos seed {SEED} (set PAGETALLY_CHAOS_SEED to replay)")
    env = make_env(start=False, ppm=600)
    try:
        (env.dir / "accounts.toml").write_text("".join(
            f'[users.{name}]\ndisplay_name = "{name.title()}"\nbalance = 100000\n'
            f'access_code_hash = "{hash_secret(code)}"\n\n' for name, code in USERS.items()))
        queue = start_cups_agent(env, cups_queue)
        plans = [make_plan(rng) for _ in range(JOBS)]
        keys, kills = [], 0
        for plan in plans:
            async with IppClient(queue.uri) as cups:
                cups_job = await cups.print_job(pdf(plan.pages), name=plan.title,
                                                user=plan.user,
                                                document_format="application/pdf", hold=True)
            arm(env, plan)
            operator = Operator(env, plan)
            async with signed_in(env, plan.user) as api:
                [ticket] = await api.call("jobs.release", {"ids": [cups_job]})
                keys.append(ticket["job_key"])
                if plan.kill_after is None:
                    await operator.until_settled(api, ticket["job_key"])
                    continue
                await asyncio.sleep(plan.kill_after)
            assert env.agent is not None
            env.agent.kill9()
            kills += 1
            if plan.down_until_done:
                await operator.until_device_done()
            env.start_agent()
            async with signed_in(env, plan.user) as api:
                await operator.until_settled(api, ticket["job_key"])

        device_jobs = [j for j in env.sim_client.state()["jobs"] if j["origin"] == "ipp"]
        rows = ledger_jobs(env)
        assert len(device_jobs) == JOBS, "each release printed once on the device"
        summary = {"exact": 0, "review": 0}
        for plan, key, truth in zip(plans, keys, device_jobs, strict=True):
            row = rows[key]
            async with signed_in(env, plan.user) as api:
                status = await api.call("jobs.status", {"job_key": key})
            where = f"seed {SEED}, {plan}, device job #{truth['id']}, ledger {row}"
            assert row["device_job_id"] == truth["id"], f"metered from another job: {where}"
            if status["review"]:
                summary["review"] += 1
                assert status["charged"] >= truth["printed"] * PRICE, f"undercharged: {where}"
            else:
                summary["exact"] += 1
                assert status["charged"] == truth["printed"] * PRICE, f"not exact: {where}"
        print(f"CUPS chaos: {JOBS} jobs, {kills} kills, {summary}")
    finally:
        env.stop()
