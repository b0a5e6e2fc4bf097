"""Start the demo's processes: simulator, then Mosquitto and central if usable, then the agent.

Central mode is the default. If Mosquitto or central cannot run here, the demo says why
and falls back to the agent's standalone mode (an accounts file), which meters the same way.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from demo import broker
from demo.central_side import DB_NAME, missing_reason
from demo.scenario import Timing
from demo.services import ServiceError, Services, free_port, pagetally_command
from demo.world import DEVICE_ID, MqttSettings, accounts_toml, agent_toml
from simulator.client import SimClient

START_TIMEOUT_S = 60.0


@dataclass
class Stack:
    workdir: Path
    ipp_uri: str
    control_url: str
    snmp_port: int
    socket_path: str
    config_path: Path
    broker_port: int | None = None
    portal_url: str = ""

    @property
    def central(self) -> bool:
        return self.broker_port is not None


def wait_port(services: Services, name: str, port: int, timeout: float = 15.0) -> None:
    service = next(s for s in services.started if s.name == name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.running():
            raise ServiceError(f"{name} stopped with exit code {service.proc.returncode}:\n"
                               f"{service.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(f"{name} did not accept connections on port {port} within"
                       f" {timeout:.0f} s:\n{service.tail()}")


def start_sim(services: Services, timing: Timing) -> tuple[str, str, int]:
    http_port, snmp_port = free_port(), free_port(socket.SOCK_DGRAM)
    ready = json.loads(services.start_ready("simulator", [
        *pagetally_command(), "sim", "--http-port", str(http_port), "--snmp-port",
        str(snmp_port), "--ppm", str(timing.ppm), "--warmup", str(timing.warmup_s)],
        # The simulator tidies up (its card-reader pty and FIFO folder) on Ctrl-C only.
        timeout=START_TIMEOUT_S, stop_signal=signal.SIGINT))
    control = str(ready["control"]).rstrip("/").removesuffix("/sim")
    print(f"  simulated printer  {ready['ipp']}  ({timing.ppm:g} pages/min,"
          f" SNMP on udp 127.0.0.1:{snmp_port}), with a copier behind a copier board on"
          " a serial pty")
    return str(ready["ipp"]), control, snmp_port


def start_central(services: Services, workdir: Path) -> MqttSettings:
    """Mosquitto with the production ACL, and `pagetally central serve` connected to it."""
    reason = missing_reason()
    if reason:
        raise broker.BrokerUnavailable(f"central cannot run: {reason}")
    broker.check_installed()
    files = broker.write_config(workdir / "mosquitto", free_port(), [DEVICE_ID])
    services.start("mosquitto", ["mosquitto", "-c", str(files.conf)])
    wait_port(services, "mosquitto", files.port)
    print(f"  MQTT broker        mosquitto on 127.0.0.1:{files.port}"
          " (password file, one topic root per device)")
    web_port = free_port()
    services.start_ready("central", [
        *pagetally_command(), "central", "serve", "--db", DB_NAME, "--mqtt-port",
        str(files.port), "--username", broker.CENTRAL_USER, "--password-file",
        str(files.passwords[broker.CENTRAL_USER]), "--web", f"127.0.0.1:{web_port}", "-v"],
        timeout=START_TIMEOUT_S)
    print(f"  central ledger     pagetally central serve  (SQLite {workdir / DB_NAME})")
    print(f"  portal             http://127.0.0.1:{web_port}/  (user portal and admin console)")
    return MqttSettings(files.port, files.passwords[DEVICE_ID], f"http://127.0.0.1:{web_port}")


def start_stack(services: Services, workdir: Path, timing: Timing) -> Stack:
    ipp, control, snmp_port = start_sim(services, timing)
    mqtt: MqttSettings | None = None
    try:
        mqtt = start_central(services, workdir)
    except (broker.BrokerUnavailable, ServiceError) as exc:
        for name in ("central", "mosquitto"):
            for service in [s for s in services.started if s.name == name]:
                services.stop(service)
        print(f"\n  Central is not available, so the demo runs the agent standalone"
              f" (accounts file).\n  Reason: {exc}\n")
    if mqtt is None:
        (workdir / "accounts.toml").write_text(accounts_toml())
    config = workdir / "agent.toml"
    board_port = str(SimClient(control).board()["path"])
    config.write_text(agent_toml(workdir, ipp, snmp_port, mqtt, board_port))
    socket_path = services.start_ready("agent", [
        *pagetally_command(), "agent", "--config", str(config), "-v"],
        timeout=START_TIMEOUT_S)
    mode = "accounts on central, over MQTT" if mqtt else "standalone, accounts file"
    print(f"  agent              pagetally agent  (API socket {socket_path}; {mode})")
    return Stack(workdir, ipp, control, snmp_port, socket_path, config,
                 mqtt.port if mqtt else None, mqtt.portal_url if mqtt else "")
