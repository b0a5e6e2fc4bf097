"""A whole device for end-to-end tests: the simulator plus a real agent process.

No part is mocked: the agent talks IPP and SNMP to `pagetally sim` and serves its JSON-RPC
API on a Unix socket; tests drive it through that API, as the panel does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.api.client import ApiClient
from agent.identity.accounts import hash_secret
from drivers.ipp.client import IppClient
from simulator.client import SimClient
from simulator.profiles import agent_snmp_profile
from tests.helpers import BIN, Child, SimHandle, spawn, start_sim

USERS = {
    "alice": {"display_name": "Alice Example", "balance": 1000, "code": "246810"},
    "bob": {"display_name": "Bob Example", "balance": 40, "code": "135790"},
}
CODES = {name: u["code"] for name, u in USERS.items()}


def accounts_toml() -> str:
    parts = []
    for name, u in USERS.items():
        parts.append(f'[users.{name}]\ndisplay_name = "{u["display_name"]}"\n'
                     f'balance = {u["balance"]}\n'
                     f'access_code_hash = "{hash_secret(str(u["code"]))}"\n')
    return "\n".join(parts)


def mqtt_toml(mqtt: dict[str, str | int | float]) -> str:
    """An [mqtt] section (central mode) from plain key/value pairs."""
    return "[mqtt]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in mqtt.items())


def agent_toml(d: Path, sim: SimHandle, *, extra: str = "", printer: str = "",
               snmp_profile: str = "pagetally-sim",
               mqtt: dict[str, str | int | float] | None = None,
               poll_interval_s: float = 0.1) -> str:
    """The agent's config: standalone on accounts.toml, or central mode when `mqtt` is given."""
    accounts = mqtt_toml(mqtt) if mqtt else f'[accounts]\nfile = "{d}/accounts.toml"\n'
    printer = printer or (
        f'ipp_uri = "{sim.ipp}"\nsnmp_host = "127.0.0.1"\nsnmp_port = {sim.snmp_port}\n'
        f'snmp_profile = "{snmp_profile}"\n')
    return f"""
[device]
id = "dev-1"
site = "site-1"
name = "Sim MFD"

[printer]
{printer}
[prices.media.default]
mono_simplex = "0.10"
color_simplex = "0.50"

[ledger]
path = "{d}/ledger.db"

[api]
socket = "{d}/agent.sock"

{accounts}
[metering]
poll_interval_s = {poll_interval_s}
idle_polls = 3
snmp_timeout_s = 0.5
snmp_retries = 0
status_interval_s = 0.5

[identity]
session_timeout_s = 60
offline_cache = "{d}/offline-cache.json"
{extra}
"""


@dataclass
class AgentEnv:
    sim: SimHandle
    dir: Path
    config_text: str
    agent: Child | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def sim_client(self) -> SimClient:
        return SimClient(self.sim.control)

    @property
    def socket_path(self) -> str:
        return str(self.dir / "agent.sock")

    @property
    def config_path(self) -> Path:
        return self.dir / "agent.toml"

    def start_agent(self, **env: str) -> Child:
        self.config_path.write_text(self.config_text)
        self.agent = spawn([str(BIN / "pagetally"), "agent", "--config", str(self.config_path),
                            "-v"], env={**self.env, **env})
        self.agent.wait_line("READY ")
        return self.agent

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop()
        self.sim.child.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def submit(self, user: str, name: str, pages: int, *, color: bool = False,
                     duplex: bool = False, copies: int = 1) -> int:
        """A held job, sent over IPP as a workstation would send it."""
        async with IppClient(self.sim.ipp) as ipp:
            return await ipp.print_job(b"", name=name, user=user,
                                       document_format="application/octet-stream",
                                       hold=True, copies=copies, color=color,
                                       sides="two-sided-long-edge" if duplex else "one-sided",
                                       impressions=pages)

    @asynccontextmanager
    async def client(self, login: str | None = None) -> AsyncIterator[ApiClient]:
        api = await ApiClient.connect(self.socket_path)
        try:
            await api.call("subscribe")
            if login is not None:
                await api.call("session.login", {"code": CODES[login]})
            yield api
        finally:
            await api.close()

    async def wait_result(self, api: ApiClient, job_key: str, timeout: float = 30.0
                          ) -> dict[str, Any]:
        """The job's settled status, from the job.result notification."""
        async def wait() -> dict[str, Any]:
            while True:
                result = await api.next_notification("job.result", timeout)
                if result["job_key"] == job_key:
                    return result

        return await asyncio.wait_for(wait(), timeout)

    @staticmethod
    async def wait_settled(api: ApiClient, job_key: str, timeout: float = 30.0
                           ) -> dict[str, Any]:
        """The job's status once settled or in review, polled: after a restart there is
        no notification to wait for, as the job may have settled before we subscribed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status: dict[str, Any] = await api.call("jobs.status", {"job_key": job_key})
            if status["state"] in ("settled", "review") or loop.time() > deadline:
                return status
            await asyncio.sleep(0.1)


def make_env(*sim_args: str, extra: str = "", start: bool = True, ppm: float = 1200,
             snmp_profile: str = "pagetally-sim",
             mqtt: dict[str, str | int | float] | None = None,
             poll_interval_s: float = 0.1, profile: str = "") -> AgentEnv:
    """Simulator + agent; with `mqtt` ([mqtt] keys) the agent runs in central mode. With
    `profile` ("a,b") the simulator imitates those quirk profiles and the agent reads it
    with the SNMP profile they need."""
    if profile:
        sim_args = (*sim_args, "--profile", profile)
        snmp_profile = agent_snmp_profile(profile)
    sim = start_sim(*sim_args, ppm=ppm)
    d = Path(tempfile.mkdtemp(prefix="pt-"))
    if mqtt is None:
        (d / "accounts.toml").write_text(accounts_toml())
    env = AgentEnv(sim, d, agent_toml(d, sim, extra=extra, snmp_profile=snmp_profile,
                                      mqtt=mqtt, poll_interval_s=poll_interval_s))
    if start:
        env.start_agent()
    return env
