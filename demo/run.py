"""`pagetally demo`: the whole system on a simulated printer, on this machine only.

It starts the simulator, Mosquitto and central (when usable) and the agent as child
processes on free loopback ports in a temporary folder, tells a short story with two users
(a normal job, a jam, a cancel, a denial, then a copy session through the copier board),
prints who paid what and why, checks it against the printer's own counters and central's
ledger, and stops everything again.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from agent.api.client import ApiClient, ApiError
from demo import report
from demo.broker import BrokerUnavailable
from demo.central_side import CentralAdmin, CentralError
from demo.copying import CopyStory, copy_session
from demo.panel import codes_hint, display_available, how_to_open, open_panel, panel_command
from demo.scenario import PANEL_JOBS, Scenario, Timing
from demo.services import ServiceError, Services
from demo.stack import Stack, start_stack
from demo.world import PRICE_COLOR, PRICE_MONO, USERS, money
from drivers.ipp.errors import IppError
from simulator.client import SimClient, SimControlError

NORMAL = Timing(ppm=60, warmup_s=1.0, operator_delay_s=3.0, job_timeout_s=120.0, pause_s=1.5)
FAST = Timing(ppm=300, warmup_s=0.0, operator_delay_s=0.5, job_timeout_s=30.0, pause_s=0.0)
CENTRAL_SYNC_TIMEOUT_S = 20.0
FAILURES = (ServiceError, CentralError, BrokerUnavailable, ApiError, IppError, SimControlError,
            TimeoutError, OSError)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pagetally demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--no-panel", action="store_true", help="do not open the touch panel")
    p.add_argument("--keep", action="store_true",
                   help="leave everything running afterwards and print the endpoints,"
                        " until Ctrl-C")
    p.add_argument("--fast", action="store_true",
                   help="a fast printer and no pauses (for tests); the story is the same")
    return p


class Demo:
    def __init__(self, args: argparse.Namespace, workdir: Path, services: Services) -> None:
        self.args = args
        self.workdir = workdir
        self.services = services
        self.timing = FAST if args.fast else NORMAL
        self.step_no = 0
        self.expected: dict[str, int] = {}  # each user's balance after the story
        self.copies: list[CopyStory] = []

    def step(self, title: str) -> None:
        self.step_no += 1
        print(f"\n[{self.step_no}] {title}", flush=True)

    def run(self) -> bool:
        print("PageTally demo: a print-release terminal metering a simulated printer.")
        print(f"Everything runs on this machine, in {self.workdir}, and stops at the end.")
        self.step("Starting the services on free loopback ports")
        stack = start_stack(self.services, self.workdir, self.timing)
        self.step("Creating two users")
        if stack.central:
            print("  at central, with its admin CLI:")
            CentralAdmin(self.workdir).create_users()
        else:
            print("  in the agent's accounts file (codes stored only as argon2 hashes):")
        for u in USERS:
            print(f"  {u.name:<6} {u.display_name:<14} balance {money(u.balance):>5}"
                  f"  access code {u.code}")
        print(f"  prices: {money(PRICE_MONO)} a mono page, {money(PRICE_COLOR)} a colour page")
        sim = SimClient(stack.control_url)
        scenario = Scenario(stack.ipp_uri, sim, stack.socket_path, self.timing)
        ok = asyncio.run(self.story(stack, sim, scenario))
        if stack.central:
            ok &= self.central_view(stack)
        self.panel(stack, scenario)
        return ok

    async def story(self, stack: Stack, sim: SimClient, scenario: Scenario) -> bool:
        if stack.central:
            await wait_online(stack.socket_path, CENTRAL_SYNC_TIMEOUT_S)
        start_total = int((await asyncio.to_thread(sim.counters))["true_total"])
        self.step("Workstations send jobs over IPP; the printer holds them until release")
        await scenario.submit_all()
        self.step("At the device: log in, release, watch it print (the agent's API, as the"
                  " panel uses it)")
        await scenario.release_all()
        self.step("At the copier: log in, copy, Stop (the copier board switches the copier"
                  " on and counts its pages)")
        self.copies = [await copy_session(stack.socket_path, sim, self.timing)]
        ok = all([report.copy_checks(c, {"mono": PRICE_MONO, "colour": PRICE_COLOR})
                  for c in self.copies])
        self.expected = {u.name: u.balance - sum(
            int(r.result["charged"]) for r in scenario.released if r.job.user == u.name)
            - sum(int(c.result["charged"]) for c in self.copies if c.user == u.name)
            for u in USERS}
        if stack.central:
            await asyncio.to_thread(CentralAdmin(self.workdir).wait_balances,
                                    self.expected, CENTRAL_SYNC_TIMEOUT_S)
        self.step("Statement: charges and refunds per user")
        api = await ApiClient.connect(stack.socket_path)
        try:
            for u in USERS:
                await api.call("session.login", {"code": u.code})
                summary = await api.call("account.summary")
                await api.call("session.logout")
                ok &= report.statement(u.name, summary, scenario.released, self.copies)
        finally:
            await api.close()
        print("\n  The printer's own counters (the simulator's ground truth):")
        ok &= report.ground_truth(await asyncio.to_thread(sim.state), scenario.released,
                                  self.copies, start_total)
        return ok

    def central_view(self, stack: Stack) -> bool:
        self.step("Central's own ledger: the charges arrived over MQTT, exactly once")
        admin = CentralAdmin(self.workdir)
        seen = admin.wait_balances(self.expected, CENTRAL_SYNC_TIMEOUT_S)
        ok = True
        for u in USERS:
            shown = admin.run("show", u.name, echo=False)
            ok &= report.central_view(u.name, self.expected[u.name], seen[u.name],
                                      shown)
        export = self.workdir / "central-export.csv"
        print()
        admin.run("export", "--csv", export.name)
        with export.open(newline="") as f:
            rows = list(csv.DictReader(f))
        for c in self.copies:
            ok &= report.central_copies(c.user, c.result["session_key"], rows,
                                        int(c.result["charged"]))
        return ok

    def panel(self, stack: Stack, scenario: Scenario) -> None:
        print()
        config = str(stack.config_path)
        if self.args.no_panel:
            print("  The touch panel stays closed (--no-panel).")
        elif display_available():
            print("  Two more jobs wait for you to release on the panel:")
            asyncio.run(scenario.submit_all(PANEL_JOBS))
            open_panel(self.services, stack.socket_path, config)
        else:
            print(how_to_open())
        if self.args.keep:
            self.keep(stack, config)

    def keep(self, stack: Stack, config: str) -> None:
        print("\nEverything is still running (--keep). Endpoints:")
        print(f"  printer (IPP)     {stack.ipp_uri}")
        print(f"  simulator state   {stack.control_url}/sim/state")
        print(f"  copier board      {stack.control_url}/sim/board  (while a copy session runs:"
              f" curl -d '{{\"pages\": 3}}' {stack.control_url}/sim/board/copy)")
        print(f"  SNMP              snmpwalk -v2c -c public 127.0.0.1:{stack.snmp_port}"
              " 1.3.6.1.2.1.43")
        print(f"  agent API         pagetally agent ctl --socket {stack.socket_path}"
              " session.status")
        if stack.central:
            print(f"  MQTT broker       127.0.0.1:{stack.broker_port}")
            print(f"  central ledger    pagetally central show alice --db"
                  f" {self.workdir / 'central.db'}")
            db = self.workdir / "central.db"
            print(f"  portal            {stack.portal_url}/  (a sign-in link for alice:"
                  f" pagetally central user invite alice --db {db} --url {stack.portal_url};"
                  " for the admin console add --admin with a new name)")
        print(f"  access codes      {codes_hint()}")
        panel = shlex.join(panel_command(stack.socket_path, config))
        print(f"  touch panel       DISPLAY=:0 {panel}")
        print(f"  logs              {self.workdir}/*.log")
        print("Press Ctrl-C to stop everything.", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            print()


async def wait_online(socket_path: str, timeout: float) -> None:
    """Central mode: wait until the agent has reached central, so logins go to central."""
    api = await ApiClient.connect(socket_path)
    try:
        deadline = time.monotonic() + timeout
        while not (await api.call("printer.status")).get("online"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the agent did not reach central within {timeout:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await api.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the demo like Ctrl-C: cleanly, stopping every child."""
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    # each line as it is printed, also into a pipe or a log: the story is live progress
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="pagetally-demo-"))
    services = Services(workdir)
    signal.signal(signal.SIGTERM, _interrupt)
    ok = interrupted = False
    try:
        ok = Demo(args, workdir, services).run()
    except KeyboardInterrupt:
        interrupted = True
        print("\nInterrupted: stopping everything.")
    except FAILURES as exc:
        print(f"\nThe demo stopped: {exc}")
    finally:
        services.stop_all()
    elapsed = time.monotonic() - started
    if ok or interrupted:
        shutil.rmtree(workdir, ignore_errors=True)
    if ok:
        print(f"\nDemo finished in {elapsed:.0f} s; every process stopped, temp files removed.")
        return 0
    if not interrupted:
        print(f"\nThe logs of every process are kept in {workdir}.")
    return 130 if interrupted else 1
