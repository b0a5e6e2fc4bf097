"""sd_notify over a real datagram socket: a real agent process says READY=1 once it serves
and keeps sending WATCHDOG=1; a loop that blocks stops the pings; STOPPING=1 at the end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.systemd_notify import Notifier
from tests.agent_env import make_env


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    folder = tempfile.mkdtemp(prefix="pt-notify-")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    yield sock, path
    sock.close()
    os.unlink(path)
    os.rmdir(folder)


def _recv_until(sock: socket.socket, wanted: str) -> list[str]:
    got = []
    while True:
        msg = sock.recv(4096).decode()
        got.append(msg)
        if wanted in msg:
            return got


def test_agent_ready_watchdog_stopping(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    env = make_env(start=False)
    try:
        agent = env.start_agent(NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")
        first = sock.recv(4096).decode()
        assert first == f"READY=1\nSTATUS=serving on {env.socket_path}"
        pings = [sock.recv(4096).decode() for _ in range(5)]
        assert pings == ["WATCHDOG=1"] * 5
        agent.stop()
        assert "STOPPING=1" in _recv_until(sock, "STOPPING=1")
        assert agent.proc.returncode == 0
    finally:
        env.stop()


def test_agent_without_notify_socket_is_quiet_and_runs() -> None:
    env = make_env()
    try:
        assert "cannot notify systemd" not in env.agent.output()
    finally:
        env.stop()


HUNG_LOOP = """
import asyncio, sys
from agent.systemd_notify import Notifier

async def main():
    n = Notifier()
    task = asyncio.create_task(n.watchdog())
    await asyncio.sleep(0.3)
    n.send("STATUS=blocking")
    sys.stdin.readline()          # the loop hangs here: nothing else on it can run
    await asyncio.sleep(0.3)
    task.cancel()

asyncio.run(main())
"""


def test_blocked_loop_stops_the_pings(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    child = subprocess.Popen([sys.executable, "-c", HUNG_LOOP], stdin=subprocess.PIPE,
                             env={**os.environ, "NOTIFY_SOCKET": path,
                                  "WATCHDOG_USEC": "100000"})
    try:
        before = _recv_until(sock, "STATUS=blocking")
        assert before.count("WATCHDOG=1") >= 1
        sock.settimeout(1.0)  # ten watchdog periods: a live loop would have pinged ~20 times
        with pytest.raises(TimeoutError):
            sock.recv(4096)
        assert child.stdin is not None
        child.stdin.write(b"\n")
        child.stdin.flush()
        sock.settimeout(20)
        assert sock.recv(4096) == b"WATCHDOG=1"
    finally:
        child.kill()
        child.wait()


def test_notifier_reads_the_environment(tmp_path: Path) -> None:
    assert not Notifier({}).active
    assert Notifier({"NOTIFY_SOCKET": "@abstract"}).address == "\0abstract"
    n = Notifier({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"})
    assert n.watchdog_s == 30.0
    other = Notifier({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000",
                      "WATCHDOG_PID": str(os.getpid() + 1)})
    assert other.watchdog_s is None  # meant for another process
    assert Notifier({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "0"}).watchdog_s is None


def test_abstract_socket_address(tmp_path: Path) -> None:
    name = f"pagetally-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready("ok")
        assert sock.recv(4096) == b"READY=1\nSTATUS=ok"
    finally:
        sock.close()
