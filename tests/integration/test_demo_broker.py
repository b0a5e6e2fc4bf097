"""The demo's Mosquitto keeps central's session across a restart, as docs/mosquitto.md asks."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.broker import BrokerFiles, write_config
from tests.helpers import free_port

TXN_TOPIC = "pagetally/v1/site-1/dev-a/txn"
CENTRAL_ID = "demo-central-persistent"


class Broker:
    """`mosquitto -c` on the demo's generated config, stopped gracefully (SIGTERM)."""

    def __init__(self, files: BrokerFiles) -> None:
        self.files = files
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.files.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "mosquitto exited at start"
            try:
                with socket.create_connection(("127.0.0.1", self.files.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError("mosquitto did not listen")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self, tool: str, user: str, *args: str) -> list[str]:
        password = self.files.passwords[user].read_text().strip()
        return [tool, "-h", "127.0.0.1", "-p", str(self.files.port), "-u", user,
                "-P", password, "-q", "1", "-t", TXN_TOPIC, *args]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(write_config(tmp_path / "mosquitto", free_port(), ["dev-a"]))
    yield b
    b.stop()


def test_demo_broker_config_is_persistent(broker: Broker) -> None:
    lines = broker.files.conf.read_text().splitlines()
    data = broker.files.conf.parent / "data"
    assert "persistence true" in lines
    assert f"persistence_location {data}/" in lines
    assert data.is_dir()


def test_queued_txn_for_central_survives_a_broker_restart(broker: Broker) -> None:
    broker.start()
    # Central subscribes with a persistent session (clean session off, fixed id), then is away.
    subscribed = subprocess.run(broker.client("mosquitto_sub", "central", "-i", CENTRAL_ID,
                                              "-c", "-E"), capture_output=True, timeout=10)
    assert subscribed.returncode == 0, subscribed.stderr
    published = subprocess.run(broker.client("mosquitto_pub", "dev-a", "-m", "txn-1"),
                               capture_output=True, timeout=10)
    assert published.returncode == 0, published.stderr
    broker.stop()
    broker.start()
    got = subprocess.run(broker.client("mosquitto_sub", "central", "-i", CENTRAL_ID, "-c",
                                       "-C", "1", "-W", "5"), capture_output=True, timeout=15)
    assert (got.returncode, got.stdout) == (0, b"txn-1\n"), got.stderr
    assert any((broker.files.conf.parent / "data").iterdir())
