"""A private Mosquitto for the demo, configured as in production (see docs/mosquitto.md).

Same approach as the tests' broker: a generated mosquitto.conf on a free loopback port, a
password file made with `mosquitto_passwd`, an ACL that gives each device its own topic
root while `central` reads and writes everything under `pagetally/v1/`, and persistence in
the demo's own folder, so queued QoS 1 messages survive a broker restart.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from central.broker import CENTRAL_USER, DEVICE_ACL


class BrokerUnavailable(Exception):
    """Mosquitto cannot be used here; the message says what to install or what failed."""


@dataclass(frozen=True)
class BrokerFiles:
    conf: Path
    port: int
    passwords: dict[str, Path]  # user -> file holding that user's password


def check_installed() -> None:
    missing = [tool for tool in ("mosquitto", "mosquitto_passwd") if shutil.which(tool) is None]
    if missing:
        raise BrokerUnavailable(f"{' and '.join(missing)} not found; install it with "
                                "`sudo apt-get install -y mosquitto`")


def write_config(workdir: Path, port: int, devices: list[str]) -> BrokerFiles:
    """Config, password file (random passwords) and ACL for central plus `devices`."""
    workdir.mkdir(parents=True, exist_ok=True)
    passwd, acl = workdir / "passwd", workdir / "acl"
    passwd.unlink(missing_ok=True)
    passwd.touch(mode=0o600)
    files: dict[str, Path] = {}
    for user in (CENTRAL_USER, *devices):
        password = secrets.token_urlsafe(16)
        try:
            subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password],
                           check=True, capture_output=True, timeout=30)
        except subprocess.CalledProcessError as exc:
            raise BrokerUnavailable("mosquitto_passwd failed: "
                                    + exc.stderr.decode(errors="replace").strip()) from exc
        files[user] = workdir / f"{user}.password"
        files[user].write_text(password + "\n")
        files[user].chmod(0o600)
    acl.write_text(DEVICE_ACL)
    acl.chmod(0o600)
    data = workdir / "data"  # central's session and queued txns survive a broker restart
    data.mkdir(exist_ok=True)
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"""\
per_listener_settings false
listener {port} 127.0.0.1
allow_anonymous false
password_file {passwd}
acl_file {acl}
max_queued_messages 100000
max_inflight_messages 1000
set_tcp_nodelay true
persistence true
persistence_location {data}/
autosave_interval 60
user {getpass.getuser()}
log_dest stdout
log_type error
log_type warning
log_type notice
""")
    return BrokerFiles(conf, port, files)
