"""The demo's child processes: started on free loopback ports, logged to files, always stopped.

Each child runs in its own session, so Ctrl-C reaches only the demo, which then stops the
children in reverse order (SIGTERM, then SIGKILL after a grace period) and nothing is left
behind. A child that dies early is reported with the end of its log, in plain words.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

GRACE_S = 5.0


class ServiceError(Exception):
    """A child process could not start; the message says which one and why."""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port free for both TCP and UDP right now (the simulator uses both)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port


def pagetally_command() -> list[str]:
    """How to run `pagetally` from here: the console script next to this Python, if any."""
    script = Path(sys.executable).parent / "pagetally"
    if script.exists():
        return [str(script)]
    found = shutil.which("pagetally")
    return [found] if found else [sys.executable, "-m", "agent.cli"]


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join("      | " + line for line in text[-lines:]) or "      | (empty log)"

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=GRACE_S)


class Services:
    """Every child the demo started, newest last; `stop_all` undoes them newest first."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Service] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None,
              stop_signal: int = signal.SIGTERM) -> Service:
        log = self.workdir / f"{name}.log"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        with log.open("wb") as out:
            try:
                proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=full_env,
                                        cwd=self.workdir, start_new_session=True)
            except OSError as exc:
                raise ServiceError(f"cannot start {name} ({args[0]}): {exc.strerror}") from exc
        service = Service(name, proc, log, stop_signal)
        self.started.append(service)
        return service

    def start_ready(self, name: str, args: list[str], timeout: float = 30.0,
                    stop_signal: int = signal.SIGTERM) -> str:
        """Start a child that prints `READY <payload>` when it serves; return the payload."""
        service = self.start(name, args, stop_signal=stop_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in service.log.read_text(errors="replace").splitlines():
                if line.startswith("READY "):
                    return line[len("READY "):].strip()
            if not service.running():
                raise ServiceError(f"{name} stopped with exit code {service.proc.returncode}"
                                   f" before it was ready:\n{service.tail()}")
            time.sleep(0.05)
        raise ServiceError(f"{name} was not ready within {timeout:.0f} s:\n{service.tail()}")

    def stop(self, service: Service) -> None:
        service.stop()
        if service in self.started:
            self.started.remove(service)

    def stop_all(self) -> None:
        # Ctrl-C pressed again while stopping must not leave children behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while self.started:
                self.started.pop().stop()
        finally:
            signal.signal(signal.SIGINT, previous)
