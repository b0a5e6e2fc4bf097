"""Metered release end to end: seeded jobs with faults, charges against the ground truth.

The simulator and a real agent daemon run as in the end-to-end tests (tests.agent_env).
Each job is submitted held over IPP, given its fault on the simulator, released through the
agent's API and waited for; its charged pages are compared with the pages the simulated
engine really marked. An "operator" thread clears jams and paper-outs half a second after
the device shows them, faster than any person; user cancels and walk-up copies are triggered
by the job's own progress notifications, as a user watching the panel would. The agent runs
with its shipped polling defaults.

Settle latency is the simulator's `completed_at` (the job's end, wall clock) to the arrival
of `job.result` on the API socket. Agent RSS while metering is psutil samples plus the
kernel's exact peak (VmHWM, reset after the one login); the peak over start-up and login,
where argon2 verification of the access code dominates, is reported apart.

With --central the agent runs as deployed with a central: Mosquitto and `pagetally central`
start too, logins go through central's rpc, and at the end every txn must be at central
exactly once.

With --profile NAME[,NAME] the simulator imitates those quirk profiles (simulator.profiles)
and the agent reads it with the SNMP profile they need; a reference device with no profile
runs the same seeded jobs at the same time, and the figures are given as ratios to it too.
With --fleet one device per profile (all of them, or --fleet-profiles) and the reference
run at once, each with its own agent: a mixed fleet on one machine.

Prints a table per device, then one JSON line last. Run: .venv/bin/python -m bench.metering
[--jobs 1000] [--seed 1] [--ppm 3000] [--operator-delay 0.5] [--poll-interval 0.2] [--central]
[--profile NAME[,NAME] | --fleet [--fleet-profiles A,B+C]] [--no-reference]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

import tests.agent_env as agent_env
import tests.sync.conftest as sync_env
from agent.api.client import ApiClient, ApiError
from agent.config_models import MeteringConfig
from simulator.client import SimClient
from simulator.profiles import PROFILES, ProfileError, agent_snmp_profile, combine
from tests.agent_env import AgentEnv, make_env

PRICE = {False: 10, True: 50}  # minor units per impression, as tests.agent_env's agent.toml
MIX = [("clean", 70), ("jam-abort", 10), ("jam-continue", 5), ("paper-out", 5),
       ("device-cancel", 5), ("user-cancel", 3), ("walk-up-copy", 2)]
RESULT_TIMEOUT = 120.0


@dataclass
class Plan:
    """One seeded job: its size, colour, fault and the page the fault strikes at."""

    index: int
    pages: int
    color: bool
    fault: str
    at: int
    copy_pages: int = 0


@dataclass
class Outcome:
    plan: Plan
    job_id: int
    truth: int
    charged_pages: int | None
    review: bool
    review_note: str | None
    reason: str | None
    settle_s: float | None
    copy_interleaved: bool = False
    job_key: str = ""

    @property
    def verdict(self) -> str:
        """review, or how the charged pages compare with the pages really printed."""
        if self.review:
            return "review"
        if self.charged_pages is None:
            return "odd"  # a charge that is not a whole number of pages
        if self.charged_pages == self.truth:
            return "exact"
        return "over" if self.charged_pages > self.truth else "under"


def make_plans(n: int, seed: int) -> list[Plan]:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    plans = []
    for i in range(n):
        fault = rng.choices(kinds, weights)[0]
        pages = rng.randint(1, 30)
        if fault != "clean":
            pages = max(pages, 2)  # a fault "during" the job needs a page after it
        plans.append(Plan(i, pages, rng.random() < 0.3, fault, rng.randint(1, pages - 1)
                          if pages > 1 else 1, rng.randint(1, 5)))
    return plans


def job_faults(plan: Plan) -> dict[str, Any] | None:
    return {"jam-abort": {"jam_at": plan.at, "jam_then": "abort"},
            "jam-continue": {"jam_at": plan.at, "jam_then": "continue"},
            "paper-out": {"paper_out_at": plan.at},
            "device-cancel": {"cancel_at": plan.at}}.get(plan.fault)


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
                   any(_during(jobs[c], truth) for c in copy_ids), ticket["job_key"])


async def _cancel(api: ApiClient, job_key: str) -> None:
    """The user presses cancel on the panel; too late is fine (the job had finished)."""
    try:
        await api.call("jobs.cancel", {"job_key": job_key})
    except ApiError as exc:
        print(f"  cancel of {job_key} refused: {exc}")


async def _copy(sim: SimClient, pages: int, ids: list[int]) -> None:
    ids.append(await asyncio.to_thread(sim.copy, pages))


def expected_reason(o: Outcome) -> str:
    """The refund reason code the ground truth calls for."""
    if o.plan.fault == "jam-abort":
        return "jam"
    if o.plan.fault == "device-cancel":
        return "canceled-at-device"
    if o.plan.fault == "user-cancel" and o.truth < o.plan.pages:
        return "canceled-by-user" if o.truth else "never-started"
    return "completed"


def _during(copy: dict[str, Any], job: dict[str, Any]) -> bool:
    """Did the walk-up copy start while the job was printing (ground truth)?"""
    start, end = copy["processing_at"], job["completed_at"]
    return start is not None and job["processing_at"] <= start <= (end or start)


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


def final_evidence(env: AgentEnv, job_key: str) -> str:
    """The agent's settled evidence for one job, read from its ledger (read-only)."""
    db = sqlite3.connect(f"file:{env.dir / 'ledger.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT data FROM evidence WHERE job_key = ? AND step = 'final' "
                         "ORDER BY id DESC LIMIT 1", (job_key,)).fetchone()
    finally:
        db.close()
    return row[0] if row else "(no final evidence)"


def at_central_once(env: sync_env.SyncEnv) -> bool:
    """Every txn the agent wrote is at central, each exactly once, with the same amount."""
    env.wait_drained(timeout=120)
    agent = {t["txn_id"]: t["amount"] for t in env.agent_txns()}
    rows = env.central_rows()
    central = {r.txn_id: r.amount for r in rows}
    once = len(rows) == len(central) and central == agent
    print(f"central holds {len(rows)} txns of the agent's {len(agent)}: "
          + ("each exactly once, amounts equal" if once else "MISMATCH"))
    return once


def pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def report(env: AgentEnv, outcomes: list[Outcome], rss: RssSampler,
           duration: float, detail_limit: int | None = None) -> dict[str, Any]:
    by = {v: [o for o in outcomes if o.verdict == v] for v in ("exact", "over", "under",
                                                              "review", "odd")}
    outside = len(outcomes) - len(by["review"])
    settle = [o.settle_s for o in outcomes if o.settle_s is not None]
    print(f"\n{'fault':<14}{'jobs':>6}{'exact':>7}{'over':>6}{'under':>7}{'review':>8}"
          f"{'settle p50':>12}{'p95':>8}  reasons")
    for kind, _ in MIX:
        mine = [o for o in outcomes if o.plan.fault == kind]
        if not mine:
            continue
        n = Counter(o.verdict for o in mine)
        s = [o.settle_s for o in mine if o.settle_s is not None]
        print(f"{kind:<14}{len(mine):>6}{n['exact']:>7}{n['over']:>6}{n['under']:>7}"
              f"{n['review']:>8}{pct(s, 50):>11.3f}s{pct(s, 95):>7.3f}s  "
              + ", ".join(f"{r} {c}" for r, c in Counter(o.reason for o in mine).items()))
    copies = [o for o in outcomes if o.plan.fault == "walk-up-copy"]
    print(f"walk-up copies that started during their job: "
          f"{sum(o.copy_interleaved for o in copies)} of {len(copies)}")
    tenth = max(len(settle) // 10, 1)
    print(f"settle p95, first tenth of the run {pct(settle[:tenth], 95):.3f} s, last tenth "
          f"{pct(settle[-tenth:], 95):.3f} s")
    print(f"agent RSS while metering: first {rss.samples[0] / 2**20:.1f} MB, last "
          f"{rss.samples[-1] / 2**20:.1f} MB, peak {rss.max_rss / 2**20:.1f} MB; peak over "
          f"start-up and one login {(rss.login_peak or 0) / 2**20:.1f} MB")
    wrong = [o for o in outcomes if o.reason != expected_reason(o)]
    print(f"refund reason codes as expected: {len(outcomes) - len(wrong)} of {len(outcomes)}"
          + "".join(f"\n  {k}: got {g}, expected {e}: {c} jobs" for (k, g, e), c in
                    Counter((o.plan.fault, o.reason, expected_reason(o)) for o in wrong).items()))
    odd = [o for o in outcomes if o.verdict != "exact"]
    if detail_limit is not None and len(odd) > detail_limit:
        print(f"{len(odd)} jobs not exact; the first {detail_limit}:")
        odd = odd[:detail_limit]
    for o in odd:
        if o.verdict != "exact":
            print(f"{o.verdict.upper()} job {o.job_id} ({o.plan.fault}, {o.plan.pages} pages, "
                  f"at {o.plan.at}): charged {o.charged_pages} pages, printed {o.truth}, "
                  f"reason {o.reason}, note {o.review_note!r}\n"
                  f"  evidence: {final_evidence(env, o.job_key)}")
    figures = {
        "jobs": len(outcomes),
        "exact_outside_review": round(len(by["exact"]) / outside, 4) if outside else None,
        "review_share": round(len(by["review"]) / len(outcomes), 4),
        "over": len(by["over"]),
        "under": len(by["under"]),
        "settle_p50_s": round(pct(settle, 50), 3),
        "settle_p95_s": round(pct(settle, 95), 3),
        "agent_rss_mb": round(rss.max_rss / 2**20, 1),
        "agent_rss_login_mb": round((rss.login_peak or 0) / 2**20, 1),
        "duration_s": round(duration, 1),
    }
    print(f"\nexact outside review {len(by['exact'])}/{outside}, review {len(by['review'])}, "
          f"settle p50 {figures['settle_p50_s']} s p95 {figures['settle_p95_s']} s "
          f"(max {max(settle):.3f} s), agent RSS max {figures['agent_rss_mb']} MB")
    return figures


REFERENCE = "reference"


def device_profiles(args: argparse.Namespace) -> dict[str, str]:
    """Label -> quirk profiles ("a,b") of each device to run, the reference first."""
    try:
        if args.fleet:
            chosen = [name.strip() for name in args.fleet_profiles.split(",") if name.strip()]
            wanted = {name: name.replace("+", ",") for name in chosen}
        else:
            wanted = {args.profile: args.profile}
        for profile in wanted.values():
            combine(profile)
    except ProfileError as exc:
        sys.exit(f"bench.metering: {exc}")
    return ({} if args.no_reference else {REFERENCE: ""}) | wanted


def run_devices(profiles: dict[str, str], plans: list[Plan],
                args: argparse.Namespace) -> dict[str, Any]:
    """The same seeded jobs on each device at once, one agent per device; a table for
    each device, then the figures side by side with their ratios to the reference."""
    envs: dict[str, AgentEnv] = {}
    try:
        for label, profile in profiles.items():
            envs[label] = make_env(ppm=args.ppm, poll_interval_s=args.poll_interval,
                                   profile=profile)
            envs[label].sim_client.device(clock_offset=args.device_clock_offset)
        start = time.monotonic()

        async def all_at_once() -> list[tuple[list[Outcome], RssSampler]]:
            return await asyncio.gather(*(release_all(env, plans, args.operator_delay, label)
                                          for label, env in envs.items()))

        runs = asyncio.run(all_at_once())
        duration = time.monotonic() - start
        figures = {}
        for (label, env), (outcomes, rss) in zip(envs.items(), runs, strict=True):
            print(f"\n=== {label}: profiles {profiles[label] or 'none'}, agent SNMP profile "
                  f"{agent_snmp_profile(profiles[label]) if profiles[label] else 'pagetally-sim'}")
            figures[label] = report(env, outcomes, rss, duration, detail_limit=5)
    finally:
        for env in envs.values():
            env.stop()
    compare(figures)
    return {"mode": "fleet" if args.fleet else "profile", "devices": figures}


def compare(figures: dict[str, dict[str, Any]]) -> None:
    """One line per device; settle and RSS also as ratios to the reference device."""
    ref = figures.get(REFERENCE)
    print(f"\n{'device':<40}{'jobs':>6}{'exact*':>8}{'review':>8}{'over':>6}{'under':>7}"
          f"{'p50 s':>8}{'p95 s':>8}{'RSS MB':>8}{'p95/ref':>9}{'RSS/ref':>9}")
    for label, f in figures.items():
        ratios = ("", "")
        if ref is not None:
            ratios = (f"{f['settle_p95_s'] / ref['settle_p95_s']:.2f}",
                      f"{f['agent_rss_mb'] / ref['agent_rss_mb']:.2f}")
            f["settle_p95_ratio"], f["rss_ratio"] = float(ratios[0]), float(ratios[1])
        print(f"{label:<40}{f['jobs']:>6}{f['exact_outside_review']!s:>8}"
              f"{f['review_share']:>8}{f['over']:>6}{f['under']:>7}{f['settle_p50_s']:>8}"
              f"{f['settle_p95_s']:>8}{f['agent_rss_mb']:>8}{ratios[0]:>9}{ratios[1]:>9}")
    print("exact* = share exact outside review; review = share of all jobs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ppm", type=float, default=3000)
    p.add_argument("--operator-delay", type=float, default=0.5,
                   help="seconds the operator takes to clear a jam or load paper; under the "
                   "agent's poll interval a stop can come and go unseen, and the refund "
                   "reason then reads 'aborted' (the pages charged stay exact)")
    p.add_argument("--poll-interval", type=float,
                   default=MeteringConfig().poll_interval_s,
                   help="the agent's [metering] poll_interval_s (default: the shipped one)")
    p.add_argument("--central", action="store_true",
                   help="central mode: Mosquitto, central and the agent's MQTT sync run too")
    p.add_argument("--device-clock-offset", type=float, default=0.0,
                   help="seconds the simulated printer's clock is off the agent's (negative: "
                   "behind), as on a printer nobody set up")
    p.add_argument("--profile", default="",
                   help="quirk profiles the device imitates, comma-separated ("
                   + ", ".join(sorted(PROFILES)) + "); a reference device runs beside it")
    p.add_argument("--fleet", action="store_true",
                   help="a mixed fleet: one device per profile, and the reference, at once")
    p.add_argument("--fleet-profiles", default=",".join(sorted(PROFILES)),
                   help="the fleet's devices, comma-separated; '+' joins profiles on one "
                   "device (uptime-only+no-job-counts)")
    p.add_argument("--no-reference", action="store_true",
                   help="run no reference device beside --profile or --fleet")
    args = p.parse_args()
    if (args.profile or args.fleet) and args.central:
        p.error("--central runs one device; it cannot be combined with --profile or --fleet")
    plans = make_plans(args.jobs, args.seed)
    agent_env.USERS["alice"]["balance"] = 10**9  # the bench measures metering, not credit
    sync_env.START["alice"] = 10**9
    print(f"{args.jobs} jobs, seed {args.seed}, {args.ppm:g} ppm, operator delay "
          f"{args.operator_delay:g} s, agent polls every {args.poll_interval:g} s, device "
          f"clock {args.device_clock_offset:+g} s; mix "
          + ", ".join(f"{k} {v}" for k, v in Counter(p.fault for p in plans).items()),
          flush=True)
    # A stopped run (kill PID) still stops the simulator and the agent it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM before the end"))
    if args.profile or args.fleet:
        print(json.dumps(run_devices(device_profiles(args), plans, args)))
        return
    central = None
    if args.central:
        central = sync_env.start_sync_env(Path(tempfile.mkdtemp(prefix="pt-bench-")),
                                          ppm=args.ppm, poll_interval_s=args.poll_interval)
        env = central.agent
    else:
        env = make_env(ppm=args.ppm, poll_interval_s=args.poll_interval)
    try:
        env.sim_client.device(clock_offset=args.device_clock_offset)
        start = time.monotonic()
        outcomes, rss = asyncio.run(release_all(env, plans, args.operator_delay))
        figures = report(env, outcomes, rss, time.monotonic() - start)
        figures["mode"] = "central" if central else "standalone"
        figures["device_clock_offset_s"] = args.device_clock_offset
        if central is not None:
            figures["central_txns_once"] = at_central_once(central)
    finally:
        if central is not None:
            sync_env.stop_sync_env(central)
            shutil.rmtree(central.broker.workdir.parent, ignore_errors=True)
        else:
            env.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
