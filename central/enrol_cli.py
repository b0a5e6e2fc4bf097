"""`pagetally central enrol`: import a site's token digests, and answer enrolments.

  pagetally central enrol import enrol-tokens.jsonl --tokens-db /var/lib/pagetally-central/enrol.db
  pagetally central enrol serve --tokens-db ... --passwd-file /etc/mosquitto/passwd \\
      --broker-pid-file /run/mosquitto/mosquitto.pid --password-file central.pw
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
from pathlib import Path

from central.broker import CENTRAL_USER
from central.enrol import PasswordFile, TokenFileError, TokenStore
from central.enrol_service import BrokerLogin, Enroller, EnrolService


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pagetally central enrol", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("import", help="add the token digests `pagetally provision` wrote")
    i.add_argument("file", type=Path)
    i.add_argument("--tokens-db", type=Path, required=True)
    s = sub.add_parser("serve", help="answer enrolment requests over MQTT")
    s.add_argument("--tokens-db", type=Path, required=True)
    s.add_argument("--passwd-file", type=Path, required=True,
                   help="Mosquitto's password_file: device accounts are added there")
    s.add_argument("--broker-pid-file", type=Path,
                   help="Mosquitto's pid file: it gets SIGHUP to reload the password file")
    s.add_argument("--mqtt-host", default="127.0.0.1")
    s.add_argument("--mqtt-port", type=int, default=1883)
    s.add_argument("--username", default=CENTRAL_USER)
    s.add_argument("--password-file", type=Path, help="file holding central's MQTT password")
    s.add_argument("-v", "--verbose", action="store_true")
    return p


def _serve(args: argparse.Namespace, tokens: TokenStore) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    password = args.password_file.read_text().strip() if args.password_file else ""
    service = EnrolService(Enroller(tokens, PasswordFile(args.passwd_file, args.broker_pid_file)),
                           BrokerLogin(args.mqtt_host, args.mqtt_port, args.username, password))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def announce() -> None:
        if service.ready.wait(30):
            print("READY " + json.dumps({"broker": f"{args.mqtt_host}:{args.mqtt_port}"}),
                  flush=True)

    threading.Thread(target=announce, daemon=True).start()
    service.run(stop)
    return 0


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        tokens = TokenStore(args.tokens_db)
    except sqlite3.Error as exc:
        print(f"pagetally central enrol: {args.tokens_db}: {exc}", file=sys.stderr)
        return 1
    try:
        if args.command == "import":
            n = tokens.import_lines(args.file.read_text().splitlines(), str(args.file))
            print(f"imported {n} enrolment tokens from {args.file}")
            return 0
        return _serve(args, tokens)
    except (TokenFileError, OSError) as exc:
        print(f"pagetally central enrol: {exc}", file=sys.stderr)
        return 1
    finally:
        tokens.close()
