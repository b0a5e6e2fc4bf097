"""A real Mosquitto for tests: free port, generated config, password file and per-device ACLs.

The ACL is the production one (see docs/mosquitto.md): each device may write only under
`pagetally/v1/+/<its username>/...` and read only its own `ack` and `rpc/res`; `central` reads
and writes everything under `pagetally/v1/`; `observer` (tests only) reads everything.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from central.broker import CENTRAL_USER, DEVICE_ACL
from tests.helpers import free_port

OBSERVER_USER = "observer"

ACL = DEVICE_ACL + """
# Test observer: sees everything, may publish nothing.
user observer
topic read pagetally/v1/#
"""


def password_of(user: str) -> str:
    return f"{user}-secret"


@dataclass
class Mosquitto:
    """One broker process; `stop`/`start`/`restart` keep the same port and persistence."""

    workdir: Path
    devices: tuple[str, ...] = ("dev-a", "dev-b")
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    packet_log: bool = False  # log every PUBLISH (who got which message): slower, for tests

    @property
    def conf(self) -> Path:
        return self.workdir / "mosquitto.conf"

    @property
    def log(self) -> Path:
        return self.workdir / "mosquitto.log"

    def users(self) -> list[str]:
        return [CENTRAL_USER, OBSERVER_USER, *self.devices]

    def write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        passwd, acl = self.workdir / "passwd", self.workdir / "acl"
        passwd.unlink(missing_ok=True)
        passwd.touch(mode=0o600)
        # plain "user:password" lines hashed in one pass: one `mosquitto_passwd -b` per user
        # rewrites the file each time (10 s for bench/fleet.py's 500 devices)
        passwd.write_text("".join(f"{u}:{password_of(u)}\n" for u in self.users()))
        subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True, capture_output=True)
        acl.write_text(ACL)
        acl.chmod(0o600)
        (self.workdir / "data").mkdir(exist_ok=True)
        self.conf.write_text(f"""\
per_listener_settings false
listener {self.port} 127.0.0.1
allow_anonymous false
password_file {passwd}
acl_file {acl}
max_queued_messages 100000
max_inflight_messages 1000
set_tcp_nodelay true
persistence true
persistence_location {self.workdir / "data"}/
user {getpass.getuser()}
log_dest file {self.log}
log_type error
log_type warning
log_type notice
log_type information
{"log_type debug" if self.packet_log else ""}
""")

    def start(self, timeout: float = 10.0) -> Mosquitto:
        if not self.conf.exists():
            self.write_config()
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err}"
                                   f"{self.log.read_text() if self.log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"mosquitto did not accept connections on {self.port}")

    def stop(self) -> None:
        """Graceful stop (SIGTERM): Mosquitto saves its persistence file."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def sub_command(self, topic: str, *extra: str) -> list[str]:
        """A `mosquitto_sub` command line for the outside observer."""
        return ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-u", OBSERVER_USER,
                "-P", password_of(OBSERVER_USER), "-V", "mqttv5", "-t", topic, "-v", *extra]
