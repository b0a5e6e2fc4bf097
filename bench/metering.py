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

The parts: bench.metering_jobs (the seeded plan and verdicts), bench.metering_device (driving
one device), bench.metering_report (tables, figures, ratios).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import tests.agent_env as agent_env
import tests.sync.conftest as sync_env
from agent.config_models import MeteringConfig
from bench.metering_device import RssSampler, release_all
from bench.metering_jobs import Outcome, Plan, make_plans
from bench.metering_report import REFERENCE, at_central_once, compare, report
from simulator.profiles import PROFILES, ProfileError, agent_snmp_profile, combine
from tests.agent_env import AgentEnv, make_env


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
