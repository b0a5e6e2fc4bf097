"""`pagetally central resend`: after restoring the ledger, ask every terminal to send again.

  pagetally central resend --since 2026-11-30T08:00:00Z --password-file central.pw

A restore to an earlier point loses the txns central had committed and acked after it; the
terminals hold them, marked acked. This leaves one retained request (contract v1.2,
`ResendRequest` on `pagetally/v1/_central/ledger/resend`) at the broker: every terminal,
now or when it next connects, sends again each txn that occurred at or after `--since`.
Central applies those it lacks and answers "duplicate" for the rest, so choose `--since`
at or before the backup's time; earlier only costs duplicates. `--clear` removes the
request once every terminal has been online.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from central.broker import CENTRAL_USER
from contract import RESEND_TOPIC, ResendRequest, encode


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pagetally central resend", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--since", type=_utc_time, metavar="TIME",
                      help="ISO 8601 time with its offset, e.g. 2026-11-30T08:00:00Z")
    what.add_argument("--clear", action="store_true", help="remove the standing request")
    p.add_argument("--mqtt-host", default="127.0.0.1")
    p.add_argument("--mqtt-port", type=int, default=1883)
    p.add_argument("--username", default=CENTRAL_USER)
    p.add_argument("--password-file", type=Path, help="file holding central's MQTT password")
    return p


def _utc_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no offset: give one (Z for UTC), as terminals keep UTC times")
    return when.astimezone(dt.UTC)


def publish(args: argparse.Namespace, payload: bytes) -> None:
    """One retained QoS 1 publish, returned once the broker has taken it (raises OSError or
    RuntimeError in plain words otherwise)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5,
                         client_id=f"pagetally-resend-{uuid.uuid4().hex[:8]}")
    password = args.password_file.read_text().strip() if args.password_file else ""
    client.username_pw_set(args.username, password)
    refused: list[str] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: (
        refused.append(str(reason)) if reason.is_failure else None)
    client.connect(args.mqtt_host, args.mqtt_port)
    client.loop_start()
    try:
        info = client.publish(RESEND_TOPIC, payload, qos=1, retain=True)
        info.wait_for_publish(10)
        if refused:
            raise RuntimeError(f"the broker refused us: {refused[0]}")
        if not info.is_published():
            raise RuntimeError("the broker did not take the request within 10 s")
    finally:
        client.disconnect()
        client.loop_stop()


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.clear:
        payload, said = b"", "cleared the standing resend request"
    else:
        request = ResendRequest(uuid.uuid4(), args.since)
        payload = encode(request)
        said = (f"asked every terminal to send again its txns since"
                f" {args.since.isoformat()} (request {request.request_id}); terminals that"
                " are offline will when they connect")
    try:
        publish(args, payload)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"pagetally central resend: cannot reach the broker at"
              f" {args.mqtt_host}:{args.mqtt_port}: {exc}", file=sys.stderr)
        return 1
    print(said)
    return 0
