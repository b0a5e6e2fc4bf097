"""`pagetally central enrol`: import a site's token digests, and answer enrolments.

  pagetally central enrol import enrol-tokens.jsonl --db /var/lib/pagetally-central/ledger.db
  pagetally central enrol serve --db ... --passwd-file /etc/mosquitto/passwd \\
      --broker-pid-file /run/mosquitto/mosquitto.pid --password-file central.pw

The tokens live in central's database, the `--db` every `pagetally central` command takes
(a SQLite file or a postgresql:// URL), so every instance on it knows them. Upgrading from
the SQLite file of its own that `--tokens-db` named, move its tokens over once:

  pagetally central enrol import-old /var/lib/pagetally-central/enrol.db --db ...
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from central.broker import CENTRAL_USER
from central.enrol import PasswordFile, TokenFileError
from central.enrol_service import BrokerLogin, Enroller, EnrolService
from central.storage.base import StorageError
from central.storage.enrol_tokens import TokenStore, parse_lines, read_old_file
from central.storage.sqldb import DatabaseError, describe

MOVED = ("--tokens-db is gone: enrolment tokens now live in central's database; give --db"
         " (the ledger's URL) and move the old file's tokens once with"
         " `pagetally central enrol import-old OLD_FILE --db URL`")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL",
                        help="central's database (required): a SQLite file path, sqlite:///path,"
                             " or postgresql://user@host:port/dbname")
    common.add_argument("--tokens-db", help=argparse.SUPPRESS)
    p = argparse.ArgumentParser(prog="pagetally central enrol", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("import", parents=[common],
                       help="add the token digests `pagetally provision` wrote")
    i.add_argument("file", type=Path)
    o = sub.add_parser("import-old", parents=[common],
                       help="once, on upgrading: every token of the old --tokens-db file"
                            " (used ones stay used)")
    o.add_argument("file", type=Path)
    s = sub.add_parser("serve", parents=[common], help="answer enrolment requests over MQTT")
    s.add_argument("--passwd-file", type=Path, required=True,
                   help="Mosquitto's password_file: device accounts are added there")
    s.add_argument("--broker-pid-file", type=Path,
                   help="Mosquitto's pid file: it gets SIGHUP to reload the password file")
    s.add_argument("--mqtt-host", default="127.0.0.1")
    s.add_argument("--mqtt-port", type=int, default=1883)
    s.add_argument("--username", default=CENTRAL_USER)
    s.add_argument("--password-file", type=Path, help="file holding central's MQTT password")
    s.add_argument("--client-id", default="pagetally-enrol",
                   help="MQTT client id: each enrolment service on one broker needs its own")
    s.add_argument("-v", "--verbose", action="store_true")
    return p


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    password = args.password_file.read_text().strip() if args.password_file else ""
    enroller = Enroller(lambda: TokenStore(args.db),
                        PasswordFile(args.passwd_file, args.broker_pid_file))
    service = EnrolService(enroller, BrokerLogin(args.mqtt_host, args.mqtt_port,
                                                 args.username, password, args.client_id))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def announce() -> None:
        if service.ready.wait(30):
            print("READY " + json.dumps({"broker": f"{args.mqtt_host}:{args.mqtt_port}",
                                         "db": describe(args.db)}), flush=True)

    threading.Thread(target=announce, daemon=True).start()
    service.run(stop)
    return 0


def _import(args: argparse.Namespace, tokens: TokenStore) -> int:
    if args.command == "import":
        records = parse_lines(args.file.read_text().splitlines(), str(args.file))
    else:
        records = read_old_file(args.file)
    new = tokens.add(records)
    used = sum(r.used_at is not None for r in records)
    print(f"imported {new} enrolment tokens from {args.file}"
          + (f" ({used} of them already used)" if args.command == "import-old" else "")
          + (f"; {len(records) - new} were already known" if new < len(records) else ""))
    return 0


def main(argv: list[str]) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.tokens_db is not None:
        p.error(MOVED)
    if args.db is None:
        p.error("the following arguments are required: --db")
    try:
        tokens = TokenStore(args.db)  # opened and migrated here, so a bad --db fails at once
    except (DatabaseError, StorageError) as exc:
        print(f"pagetally central enrol: {exc}", file=sys.stderr)
        return 1
    try:
        if args.command != "serve":
            return _import(args, tokens)
    except (TokenFileError, DatabaseError, OSError) as exc:
        print(f"pagetally central enrol: {exc}", file=sys.stderr)
        return 1
    finally:
        tokens.close()
    return _serve(args)
