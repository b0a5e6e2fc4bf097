"""`pagetally central`: run the ledger service, and the admin commands around it."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from central import admin, cli_accounts
from central.codes import CodeBook
from central.members.source import MembershipError
from central.money import MoneyError, format_money, parse_money
from central.storage.base import StorageError
from central.storage.ledger import SqlLedger
from central.storage.sqldb import DatabaseError, describe, is_postgres, sqlite_path

DEFAULT_CURRENCY = "EUR"


def _money(text: str) -> str:
    """Checked as a plain amount now; read with the ledger's own decimals once it is open."""
    try:
        parse_money(text, "KWD")  # the most decimals any currency has
    except MoneyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _shared_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every command takes. They are accepted before the command and after it:
    the main parser holds the defaults, and each subcommand's copy leaves the value alone
    (SUPPRESS) unless given there, so `--db X show ann` and `show ann --db X` both work."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", default=default, metavar="URL",
                        help="the ledger (required): a SQLite file path, sqlite:///path,"
                             " or postgresql://user@host:port/dbname")
    parser.add_argument("--secret-file", type=Path, default=default,
                        help="server secret for code lookups (default for a SQLite ledger:"
                             " DB path + .secret; required with PostgreSQL; created on first"
                             " run; keep it out of backups of the DB)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _shared_options(common, suppress=True)
    # Only where a command may create the ledger; an existing ledger keeps its currency.
    new_db = argparse.ArgumentParser(add_help=False)
    new_db.add_argument("--currency", default=DEFAULT_CURRENCY,
                        help=f"ledger currency if this creates the DB (default {DEFAULT_CURRENCY})")
    p = argparse.ArgumentParser(prog="pagetally central", description=__doc__)
    _shared_options(p, suppress=False)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", parents=[common, new_db], help="run the MQTT ledger service")
    s.add_argument("--mqtt-host", default="127.0.0.1")
    s.add_argument("--mqtt-port", type=int, default=1883)
    s.add_argument("--username", default="central", help="MQTT username")
    s.add_argument("--password-file", type=Path, help="file holding the MQTT password")
    s.add_argument("--client-id", default="pagetally-central",
                   help="fixed MQTT client id: the broker keeps unacknowledged txns for it")
    s.add_argument("--lockout-failures", type=int, default=10)
    s.add_argument("--lockout-window", type=float, default=900.0, help="seconds")
    s.add_argument("--batch-max", type=int, default=500, help="most txns per commit")
    s.add_argument("--max-inflight", type=int, default=20,
                   help="unacknowledged publishes at once; <= the broker's max_inflight_messages")
    s.add_argument("--session-expiry", type=int, default=60, metavar="SECONDS",
                   help="how long the broker keeps this instance's unacknowledged messages"
                        " after it is gone (docs/scaling.md)")
    s.add_argument("--no-scheduler", action="store_true",
                   help="do not run quotas, member syncs and the fee run here")
    s.add_argument("--web", metavar="HOST:PORT",
                   help="also serve the user portal and admin console here (docs/portal.md)")
    s.add_argument("--web-only", action="store_true",
                   help="serve only the web app: no ledger service, no scheduler")
    s.add_argument("--public-url", help="the portal's address as users reach it (links, QR)")
    s.add_argument("--https", action="store_true",
                   help="the portal is reached over https (a proxy in front): Secure cookies")
    s.add_argument("--portal-db", type=Path, help="the portal's sign-in accounts and sessions"
                                                  " (default: DB path + .portal with SQLite,"
                                                  " the ledger's database with PostgreSQL)")
    s.add_argument("-v", "--verbose", action="store_true")

    user = sub.add_parser("user", help="add or import users").add_subparsers(
        dest="user_command", required=True)
    a = user.add_parser("add", parents=[common, new_db], help="add one user")
    a.add_argument("username")
    a.add_argument("--name", default="", help="display name")
    a.add_argument("--balance", type=_money, default="0", help="starting balance, e.g. 5.00")
    a.add_argument("--restricted", action=argparse.BooleanOptionalAction, default=True,
                   help="restricted users cannot spend beyond balance + credit limit")
    a.add_argument("--unrestricted", dest="restricted", action="store_false")
    a.add_argument("--credit-limit", type=_money, default="0")
    a.add_argument("--group", action="append", default=[], dest="groups")
    i = user.add_parser("import", parents=[common, new_db],
                        help="CSV: username,display_name,balance,groups,restricted,"
                             "credit_limit,card")
    i.add_argument("file", type=Path)
    inv = user.add_parser("invite", parents=[common],
                          help="print a one-time link that sets a portal password")
    inv.add_argument("username")
    inv.add_argument("--admin", action="store_true", help="the account gets the admin role")
    inv.add_argument("--hours", type=float, default=72.0, help="how long the link works")
    inv.add_argument("--url", help="the portal's address (default: setting portal.public_url)")
    inv.add_argument("--portal-db", type=Path, help="default: DB path + .portal (SQLite), the"
                                                    " ledger's database (PostgreSQL)")

    code = sub.add_parser("code", help="access codes").add_subparsers(
        dest="code_command", required=True)
    c = code.add_parser("set", parents=[common], help="set or generate a user's code")
    c.add_argument("username")
    c.add_argument("--code", help="the code to set (default: a random 6-digit code)")

    pin = sub.add_parser("pin", help="PINs for card + PIN sign-in").add_subparsers(
        dest="pin_command", required=True)
    n = pin.add_parser("set", parents=[common], help="set or generate a user's PIN")
    n.add_argument("username")
    n.add_argument("--pin", help="the PIN to set (default: a random 4-digit PIN)")

    card = sub.add_parser("card", help="cards").add_subparsers(dest="card_command",
                                                                 required=True)
    k = card.add_parser("add", parents=[common], help="give a user a card")
    k.add_argument("username")
    k.add_argument("card_number")

    balance = sub.add_parser("balance", help="balances").add_subparsers(
        dest="balance_command", required=True)
    b = balance.add_parser("adjust", parents=[common], help="add (or, negative, remove) money")
    b.add_argument("username")
    b.add_argument("amount", type=_money)
    b.add_argument("--comment", required=True)

    r = sub.add_parser("refund", parents=[common], help="refund a charge or a whole job")
    r.add_argument("txn_id", nargs="?")
    r.add_argument("--job", help="refund what is left of this job's charges")
    r.add_argument("--comment", required=True)

    w = sub.add_parser("show", parents=[common], help="a user's balance and transactions")
    w.add_argument("username")
    e = sub.add_parser("export", parents=[common], help="all transactions as CSV")
    e.add_argument("--csv", type=Path, required=True)
    cli_accounts.add_parsers(sub, common)
    return p


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.db is None:
        parser.error("the following arguments are required: --db")
    return args


def _ledger(args: argparse.Namespace) -> SqlLedger:
    return SqlLedger(args.db, currency=getattr(args, "currency", DEFAULT_CURRENCY))


def _secret(args: argparse.Namespace) -> Path:
    if args.secret_file:
        return Path(args.secret_file)
    if is_postgres(args.db):
        raise DatabaseError("with a PostgreSQL ledger, give --secret-file: the code-lookup"
                            " secret is a file of its own, kept off the database server")
    path = sqlite_path(args.db)
    return path.with_name(path.name + ".secret")


def serve(args: argparse.Namespace) -> int:
    from central.rpc import LockoutPolicy, RpcHandler
    from central.service import CentralService, ServiceConfig

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    password = args.password_file.read_text().strip() if args.password_file else ""
    if args.web_only:
        from central.web.serve import serve_web_only

        return serve_web_only(args, password, _secret(args))
    ledger = _ledger(args)
    codes = CodeBook.from_file(_secret(args))
    policy = LockoutPolicy(args.lockout_failures, args.lockout_window)

    def open_rpc() -> RpcHandler:  # on each rpc thread: a ledger connection of its own
        return RpcHandler(SqlLedger(args.db), codes, policy)

    service = CentralService(ledger, open_rpc, ServiceConfig(
        args.mqtt_host, args.mqtt_port, args.username, password, args.client_id,
        batch_max=args.batch_max, max_inflight=args.max_inflight,
        session_expiry_s=args.session_expiry))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def announce() -> None:
        while not stop.is_set():
            if service.ready.wait(0.5):
                print("READY " + json.dumps({"client_id": args.client_id,
                                             "db": describe(args.db),
                                             "broker": f"{args.mqtt_host}:{args.mqtt_port}"}),
                      flush=True)
                return

    threading.Thread(target=announce, name="announce", daemon=True).start()
    if not args.no_scheduler:
        threading.Thread(target=cli_accounts.scheduler_loop, args=(args.db, stop),
                         name="scheduler", daemon=True).start()
    web = None
    if args.web:
        from central.web.serve import start_web

        web = start_web(args, password, _secret(args))
    service.start()
    try:
        service.run(stop)
    finally:
        service.stop()
        if web:
            web.stop()
        ledger.close()
    return 0


def admin_command(args: argparse.Namespace) -> int:
    ledger = _ledger(args)
    cur = ledger.currency
    try:
        cmd = args.command
        sub = getattr(args, f"{cmd}_command", None)
        if (cmd, sub) == ("user", "add"):
            account = admin.add_user(ledger, args.username, args.name,
                                     parse_money(args.balance, cur), restricted=args.restricted,
                                     credit_limit=parse_money(args.credit_limit, cur),
                                     groups=args.groups)
            print(f"added {account.username}, balance {format_money(account.balance, cur)}")
        elif (cmd, sub) == ("user", "import"):
            with args.file.open(newline="") as f:
                created, updated = admin.import_users(ledger, f)
            print(f"imported {args.file}: {created} new, {updated} updated")
        elif (cmd, sub) == ("user", "invite"):
            from central.web.serve import invite

            print(invite(args, ledger))
        elif cmd == "code":
            code = admin.set_code(ledger, CodeBook.from_file(_secret(args)), args.username,
                                  args.code)
            print(f"access code for {args.username}: {code}\n"
                  "(shown once; only a hash is stored, so note it now)")
        elif cmd == "pin":
            pin = admin.set_pin(ledger, CodeBook.from_file(_secret(args)), args.username,
                                args.pin)
            print(f"PIN for {args.username}: {pin}\n"
                  "(shown once; only a hash is stored, so note it now)")
        elif cmd == "card":
            print(f"card {admin.add_card(ledger, args.username, args.card_number)} now"
                  f" belongs to {args.username}")
        elif cmd == "balance":
            result = admin.post(ledger, args.username, "adjustment",
                                parse_money(args.amount, cur), note="Balance adjustment",
                                comment=args.comment)
            print(f"{args.username}: new balance {format_money(result.balance, cur)}")
        elif cmd == "refund":
            if bool(args.txn_id) == bool(args.job):
                raise admin.AdminError("give either a TXN_ID or --job JOB_ID")
            result = (admin.refund_job(ledger, args.job, args.comment) if args.job
                      else admin.refund_txn(ledger, args.txn_id, args.comment))
            print(f"refunded as {result.txn_id}; new balance"
                  f" {format_money(result.balance, cur)}")
        elif cmd == "show":
            admin.show(ledger, args.username, sys.stdout)
        elif cmd == "export":
            print(f"wrote {admin.export_csv(ledger, args.csv)} transactions to {args.csv}")
        elif cmd in cli_accounts.COMMANDS:
            cli_accounts.run(args, ledger)
        return 0
    except (admin.AdminError, StorageError, ValueError, MembershipError) as exc:
        print(f"pagetally central: {exc}", file=sys.stderr)
        return 1
    finally:
        ledger.close()


def main(argv: list[str]) -> int:
    if argv[:1] == ["enrol"]:  # its own store and options: central/enrol_cli.py
        from central.enrol_cli import main as enrol_main

        return enrol_main(argv[1:])
    if argv[:1] == ["resend"]:  # no database, only the broker: central/resend_cli.py
        from central.resend_cli import main as resend_main

        return resend_main(argv[1:])
    args = parse_args(argv)
    try:
        return serve(args) if args.command == "serve" else admin_command(args)
    except (OSError, StorageError, DatabaseError) as exc:
        print(f"pagetally central: {exc}", file=sys.stderr)
        return 1
