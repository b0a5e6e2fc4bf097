"""Central's side of the demo: its admin CLI, run as a person would, and a look at its ledger."""

from __future__ import annotations

import importlib.util
import shlex
import subprocess
import time
from pathlib import Path

from demo.services import pagetally_command
from demo.world import USERS, money

DB_NAME = "central.db"


class CentralError(Exception):
    """An admin command failed; the message is central's own explanation."""


def missing_reason() -> str | None:
    """Why central cannot run from this installation, or None when it can."""
    for module in ("central.cli", "central.service", "paho.mqtt.client"):
        try:
            if importlib.util.find_spec(module) is None:
                return f"the Python module {module} is not installed"
        except ModuleNotFoundError:
            return f"the Python module {module} is not installed"
    return None


class CentralAdmin:
    """`pagetally central ...` against the demo's ledger, run in the demo's folder."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db = workdir / DB_NAME

    def run(self, *args: str, echo: bool = True) -> str:
        argv = ["central", *args, "--db", DB_NAME]
        if echo:
            print(f"    $ pagetally {shlex.join(argv)}")
        done = subprocess.run([*pagetally_command(), *argv], cwd=self.workdir, text=True,
                              capture_output=True, timeout=60)
        if done.returncode != 0:
            raise CentralError(f"`pagetally {shlex.join(argv)}` failed: "
                               f"{(done.stderr or done.stdout).strip()}")
        return done.stdout

    def create_users(self) -> None:
        for u in USERS:
            self.run("user", "add", u.name, "--name", u.display_name,
                     "--balance", money(u.balance))
            self.run("code", "set", u.name, "--code", u.code)

    def wait_balances(self, expected: dict[str, int], timeout: float) -> dict[str, int]:
        """Central's balances once they equal `expected`, or as they are at the deadline."""
        from central.storage.ledger import SqlLedger

        ledger = SqlLedger(self.db)
        try:
            deadline = time.monotonic() + timeout
            while True:
                seen = {}
                for name in expected:
                    account = ledger.get_account(name)
                    seen[name] = account.balance if account else 0
                if seen == expected or time.monotonic() > deadline:
                    return seen
                time.sleep(0.1)
        finally:
            ledger.close()
