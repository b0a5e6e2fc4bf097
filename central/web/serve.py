"""The web parts of `pagetally central`: `serve --web` / `--web-only` and `user invite`."""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path

from central.storage.base import Ledger
from central.storage.portal_accounts import PortalAccounts, Role
from central.storage.sqldb import describe, is_postgres, sqlite_path
from central.web.devices import DeviceWatch
from central.web.pages_auth import InviteError, issue_invite
from central.web.portal import PUBLIC_URL as PUBLIC_URL_SETTING
from central.web.portal import Portal
from central.web.server import WebServer


def portal_db(args: argparse.Namespace) -> Path | str:
    """The portal's sign-in tables: a file beside a SQLite ledger, or in PostgreSQL the
    ledger's own database (so every instance shares the sessions)."""
    if args.portal_db:
        return Path(args.portal_db)
    if is_postgres(args.db):
        return str(args.db)
    path = sqlite_path(args.db)
    return path.with_name(path.name + ".portal")


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise OSError(f"--web {text!r}: give HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def start_web(args: argparse.Namespace, mqtt_password: str, secret: Path) -> WebServer:
    """The portal on its own thread, with a devices watch on the same broker; prints
    `WEB <url>` once it listens."""
    host, port = _listen(args.web or "127.0.0.1:8080")
    watch = None
    if args.mqtt_host:
        watch = DeviceWatch(args.mqtt_host, args.mqtt_port, args.username, mqtt_password,
                            client_id=f"{args.client_id}-web")
        watch.start()
    portal = Portal.open(args.db, portal_db(args), secret, public_url=args.public_url or "",
                         secure_cookies=args.https, devices=watch)
    server = WebServer(portal, host, port)
    server.start()
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    print(f"WEB http://{shown}:{server.port}/", flush=True)
    return server


def serve_web_only(args: argparse.Namespace, mqtt_password: str, secret: Path) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = start_web(args, mqtt_password, secret)
    print("READY " + json.dumps({"web": server.port, "db": describe(args.db)}), flush=True)
    stop.wait()
    server.stop()
    return 0


def invite(args: argparse.Namespace, ledger: Ledger) -> str:
    role: Role = "admin" if args.admin else "user"
    if role == "user" and ledger.get_account(args.username) is None:
        raise InviteError(f"there is no user {args.username!r}; add them first, or invite an"
                          " administrator with --admin")
    url = args.url or ledger.get_setting(PUBLIC_URL_SETTING)
    if not url:
        raise InviteError("give the portal's address with --url, or set the setting"
                          f" {PUBLIC_URL_SETTING}")
    link = issue_invite(PortalAccounts(portal_db(args)), args.username, role, url,
                        time.time(), args.hours)
    return (f"invite for {args.username} ({role}), works once within {args.hours:g} hours:\n"
            f"{link}")
