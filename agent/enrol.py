"""`pagetally enrol`: on first boot, trade the one-time token for this device's own MQTT
account (contract/enrol.py), then the agent logs in as itself.

The device makes its own random password and sends only its Mosquitto hash. The password
is kept in `<[mqtt] password_file>.new` (with its hash) before the request goes out, so a
request whose answer is lost is sent again with the same hash, which central grants again;
only "enrolled" moves it to `[mqtt] password_file`. A one-shot command, not the daemon, so
it uses paho's own thread rather than the agent's event loop.

Exit codes: 0 enrolled (or already), 1 try again later (no broker, no answer),
2 refused (the unit does not retry: RestartPreventExitStatus=2).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import ssl
import sys
import threading
import uuid
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.config import ConfigError, load_config
from agent.config_models import AgentConfig
from contract.enrol import EnrolRequest, EnrolResponse, enrol_topic

ITERATIONS = 1000


class EnrolError(Exception):
    """Enrolment did not happen; `permanent` says whether retrying can help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """Mosquitto's `$7$` password-file hash: PBKDF2-HMAC-SHA512, 12-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(key).decode()}"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def pending_account(password_file: Path) -> tuple[str, str]:
    """(password, hash) of the request in flight, made and kept once."""
    pending = password_file.with_name(password_file.name + ".new")
    if pending.exists():
        password, password_hash = pending.read_text().split("\n")[:2]
        return password, password_hash
    password = secrets.token_urlsafe(32)
    password_hash = mosquitto_hash(password)
    _write_private(pending, f"{password}\n{password_hash}\n")
    return password, password_hash


def ask_central(config: AgentConfig, login: tuple[str, str], request: EnrolRequest,
                timeout: float) -> EnrolResponse:
    """One request/response over MQTT v5 as the shared enrolment user."""
    site, device = config.device.site, config.device.id
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pagetally-enrol-{device}",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.username_pw_set(*login)
    if config.mqtt.tls:
        client.tls_set(ca_certs=config.mqtt.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
    correlation = uuid.uuid4().bytes
    subscribed, answered = threading.Event(), threading.Event()
    answer: list[EnrolResponse] = []
    refused: list[str] = []

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            refused.append(str(reason))
            answered.set()
            return
        c.subscribe(enrol_topic(site, device, "res"), qos=1)

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if getattr(msg.properties, "CorrelationData", None) != correlation:
            return
        try:
            answer.append(msgspec.json.decode(msg.payload, type=EnrolResponse))
        except msgspec.DecodeError:
            return
        answered.set()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    try:
        client.connect(config.mqtt.host, config.mqtt.port, keepalive=30)
    except OSError as exc:
        raise EnrolError(f"cannot reach the broker {config.mqtt.host}:{config.mqtt.port}: "
                         f"{exc}") from None
    client.loop_start()
    try:
        if not subscribed.wait(timeout) and not refused:
            raise EnrolError("the broker did not accept the enrolment login in time")
        if refused:
            raise EnrolError(f"the broker refused the enrolment login: {refused[0]}")
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = enrol_topic(site, device, "res")
        props.CorrelationData = correlation
        client.publish(enrol_topic(site, device, "req"), msgspec.json.encode(request), qos=1,
                       properties=props)
        if not answered.wait(timeout):
            raise EnrolError(f"central did not answer within {timeout:g} s")
        return answer[0]
    finally:
        client.disconnect()
        client.loop_stop()


def enrol(config: AgentConfig, token_file: Path, login: tuple[str, str], timeout: float) -> str:
    """Enrol once; returns what happened in words, or raises EnrolError."""
    if not config.mqtt.host or not config.mqtt.password_file:
        raise EnrolError("[mqtt] host and password_file must be set to enrol", permanent=True)
    password_file = Path(config.mqtt.password_file)
    if password_file.exists():
        return f"already enrolled ({password_file} exists)"
    try:
        token = token_file.read_text().strip()
    except OSError as exc:
        raise EnrolError(f"cannot read the token {token_file}: {exc.strerror}",
                         permanent=True) from None
    password, password_hash = pending_account(password_file)
    answer = ask_central(config, login, EnrolRequest(token, password_hash), timeout)
    if answer.status != "enrolled":
        raise EnrolError(f"central refused: {answer.reason}", permanent=True)
    _write_private(password_file, password + "\n")
    password_file.with_name(password_file.name + ".new").unlink()
    token_file.unlink(missing_ok=True)
    return f"enrolled {config.device.id} at {config.device.site}; password in {password_file}"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pagetally enrol", description=__doc__.split("\n")[0])
    p.add_argument("--config", type=Path, default=Path("/etc/pagetally/agent.toml"))
    p.add_argument("--token-file", type=Path, required=True)
    p.add_argument("--enrol-user", default="enrol")
    p.add_argument("--enrol-password-file", type=Path, required=True)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for central")
    args = p.parse_args(argv)
    try:
        config = load_config(args.config)
        login = (args.enrol_user, args.enrol_password_file.read_text().strip())
        print(f"pagetally enrol: {enrol(config, args.token_file, login, args.timeout)}")
    except ConfigError as exc:
        print(f"pagetally enrol: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"pagetally enrol: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    except EnrolError as exc:
        print(f"pagetally enrol: {exc}", file=sys.stderr)
        return 2 if exc.permanent else 1
    return 0
