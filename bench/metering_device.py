"""Drive one device through the seeded jobs: submit held, fault, release, wait for the result.

An "operator" thread clears jams and paper-outs; user cancels and walk-up copies are triggered
by the job's own progress notifications, as a user watching the panel would; the agent's RSS
is sampled while it meters.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import psutil

import tests.agent_env as agent_env
from agent.api.client import ApiClient, ApiError
from bench.metering_jobs import PRICE, Outcome, Plan, during, job_faults
from simulator.client import SimClient
from tests.agent_env import AgentEnv

RESULT_TIMEOUT = 120.0


class Operator(threading.Thread):
    """The person at the device: clears a jam or loads paper `delay` s after the device
    shows it (default: at once).

    Polls the simulator only while armed (a job with a jam or paper-out is in flight), so
    the ground-truth endpoint's load stays out of the figures for the other jobs."""

    def __init__(self, sim: SimClient, delay: float = 0.0, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.sim = sim
        self.delay = delay
        self.interval = interval
        self.armed = threading.Event()
        self.stopping = threading.Event()
        self.cleared = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            if not self.armed.wait(0.2):
                continue
            faults = self.sim.state()["faults"]
            if faults["jammed"] or faults["paper_out"]:
                time.sleep(self.delay)
                self.sim.clear()
                self.cleared += 1
            time.sleep(self.interval)


class Notes:
    """Every notification from the agent, stamped on arrival, routed by device job id."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.results: dict[int, tuple[float, dict[str, Any]]] = {}
        self.arrived = asyncio.Condition()
        self.on_progress: dict[int, Any] = {}
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        async for name, params in self.api.notifications():
            stamp = time.time()
            if name == "job.progress" and params["id"] in self.on_progress:
                self.on_progress[params["id"]](params)
            elif name == "job.result":
                async with self.arrived:
                    self.results[params["id"]] = (stamp, params)
                    self.arrived.notify_all()

    async def result(self, job_id: int, timeout: float) -> tuple[float, dict[str, Any]]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: job_id in self.results),
                                   timeout)
            return self.results.pop(job_id)


class RssSampler:
    """The agent's resident set size: psutil samples every `interval` s for the trend, and
    the kernel's exact peak (VmHWM), reset after login so it covers metering alone."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.samples: list[int] = []
        self.login_peak = self.hwm()
        self.reset_peak()
        self.task = asyncio.create_task(self._run())

    def hwm(self) -> int | None:
        """Peak RSS since start (or the last reset), from /proc; None where unavailable."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                line = next(x for x in f if x.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return None
        return int(line.split()[1]) * 1024

    def reset_peak(self) -> None:
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError as exc:
            print(f"  cannot reset the agent's peak RSS ({exc}); it will include login")

    @property
    def max_rss(self) -> int:
        return max([*self.samples, self.hwm() or 0])

    def sample(self) -> None:
        self.samples.append(self.proc.memory_info().rss)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)


async def run_job(env: AgentEnv, api: ApiClient, notes: Notes, op: Operator,
                  plan: Plan) -> Outcome:
    sim = env.sim_client
    faults = job_faults(plan)
    if faults is not None:
        await asyncio.to_thread(sim.job_faults, **faults)
    job_id = await env.submit("alice", f"bench-{plan.index:04d}.pdf", plan.pages,
                              color=plan.color)
    copy_ids: list[int] = []
    actions: list[asyncio.Task[Any]] = []
    fired = False

    def progress(status: dict[str, Any]) -> None:
        nonlocal fired
        if fired or status["state"] != "printing":
            return
        if plan.fault == "user-cancel" and status["printed"] >= 1:
            fired = True
            actions.append(asyncio.create_task(_cancel(api, status["job_key"])))
        elif plan.fault == "walk-up-copy":  # at once: a printer without per-job counts
            # may report no pages printed until the job ends
            fired = True
            actions.append(asyncio.create_task(_copy(sim, plan.copy_pages, copy_ids)))

    notes.on_progress[job_id] = progress
    if plan.fault in ("jam-abort", "jam-continue", "paper-out"):
        op.armed.set()
    try:
        [ticket] = await api.call("jobs.release", {"ids": [job_id]})
        stamp, result = await notes.result(job_id, RESULT_TIMEOUT)
        await asyncio.gather(*actions)
    finally:
        op.armed.clear()
        notes.on_progress.pop(job_id, None)
    state = await asyncio.to_thread(sim.state)
    jobs = {j["id"]: j for j in state["jobs"]}
    truth = jobs[job_id]
    price = PRICE[plan.color]
    charged = result["charged"]
    return Outcome(plan, job_id, truth["printed"],
                   charged // price if charged % price == 0 else None,
                   bool(result["review"]), result["review_note"], result["reason"],
                   stamp - truth["completed_at"] if truth["completed_at"] else None,
                   any(during(jobs[c], truth) for c in copy_ids), ticket["job_key"],
                   any((jobs[c]["processing_at"] or stamp) < stamp for c in copy_ids))


async def _cancel(api: ApiClient, job_key: str) -> None:
    """The user presses cancel on the panel; too late is fine (the job had finished)."""
    try:
        await api.call("jobs.cancel", {"job_key": job_key})
    except ApiError as exc:
        print(f"  cancel of {job_key} refused: {exc}")


async def _copy(sim: SimClient, pages: int, ids: list[int]) -> None:
    ids.append(await asyncio.to_thread(sim.copy, pages))

async def release_all(env: AgentEnv, plans: list[Plan], operator_delay: float,
                      label: str = "") -> tuple[list[Outcome], RssSampler]:
    op = Operator(env.sim_client, operator_delay)
    op.start()
    assert env.agent is not None
    outcomes: list[Outcome] = []
    api = await ApiClient.connect(env.socket_path)
    try:
        await api.call("subscribe")
        await api.call("session.login", {"code": agent_env.CODES["alice"]})
        rss = RssSampler(env.agent.proc.pid)
        notes = Notes(api)
        for plan in plans:
            await api.call("session.touch")
            outcomes.append(await run_job(env, api, notes, op, plan))
            if len(outcomes) % 50 == 0:
                print(f"  {label}{' ' if label else ''}{len(outcomes)} jobs done", flush=True)
        rss.sample()
        rss.task.cancel()
    finally:
        op.stopping.set()
        await api.close()
    return outcomes, rss
