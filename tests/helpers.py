"""Shared test plumbing: free ports and child processes that announce when they are ready."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve_ipp(reply: Reply) -> tuple[web.AppRunner, str]:
    """A throwaway server answering POST /ipp/print with `reply`: a printer that misbehaves.
    Returns its runner (call cleanup()) and its ipp:// URI."""
    app = web.Application()
    app.router.add_post("/ipp/print", reply)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"ipp://127.0.0.1:{runner.addresses[0][1]}/ipp/print"


def modules_loaded_by(*modules: str) -> set[str]:
    """Every module a fresh interpreter has loaded after importing `modules`: what a process
    that starts with them pays for in memory and start-up."""
    code = (f"import json, sys\nimport {', '.join(modules)}\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free for both TCP and UDP right now."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port


@dataclass
class Child:
    """A child process whose output is collected line by line on a thread."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            self.lines.put(line)

    def wait_line(self, prefix: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {prefix!r} line within {timeout} s:\n{self.output()}")
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"process exited with {self.proc.returncode}:\n{self.output()}"
                    ) from None
                continue
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def output(self) -> str:
        return "".join(self.log)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()


def spawn(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Child:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=full_env, cwd=cwd)
    return Child(proc)


@dataclass
class SimHandle:
    child: Child
    ipp: str
    control: str
    snmp_host: str
    snmp_port: int
    http_port: int


def start_sim(*extra: str, ppm: float = 1200, warmup: float = 0.0) -> SimHandle:
    """Start `pagetally sim` on free ports and wait for its READY line."""
    http_port, snmp_port = free_port(), free_port(socket.SOCK_DGRAM)
    child = spawn([str(BIN / "pagetally"), "sim", "--http-port", str(http_port),
                   "--snmp-port", str(snmp_port), "--ppm", str(ppm), "--warmup", str(warmup),
                   *extra])
    ready = json.loads(child.wait_line("READY "))
    return SimHandle(child, ready["ipp"], ready["control"].rstrip("/").removesuffix("/sim"),
                     "127.0.0.1", snmp_port, http_port)
