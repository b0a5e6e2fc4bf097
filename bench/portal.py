"""The portal under load: p95 latency of a user's pages and the admin transaction log.

A ledger of 1,000,000 transactions over 10,000 users (spread over 120 days, so the 90-day
window cuts), the web app served by uvicorn in a child process (`--serve`), and the load
from another child process (`--load`): threads on keep-alive connections, each request
timed on the client. Signed-in sessions are made in the portal's store beforehand, so the
load measures pages, not argon2. The reference is a static file (/static/portal.css) served
by the same uvicorn in the same run. Goal: p95 <= 100 ms for every page.
Prints a table, then one JSON line.
Run: .venv/bin/python -m bench.portal [--txns 1000000] [--users 10000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GOAL_MS = 100.0
CONNECTIONS = 4


def build(db: Path, users: int, txns: int) -> None:
    """Rows written straight into the ledger's schema (made by SqlLedger), in one commit."""
    from central.storage.ledger import SqlLedger

    SqlLedger(db).close()
    con = sqlite3.connect(db)
    now = dt.datetime.now(dt.UTC)
    names = [f"user{u:05d}@example.org" for u in range(users)]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    con.executemany("INSERT INTO accounts (username, display_name, balance, restricted,"
                    " credit_limit, created_at) VALUES (?, ?, 0, 1, 500, ?)",
                    [(n, f"User {i}", stamp) for i, n in enumerate(names)])
    rng = random.Random(14)
    balances = dict.fromkeys(names, 0)
    start = now - dt.timedelta(days=120)

    def rows():  # type: ignore[no-untyped-def]
        for i in range(txns):
            user = names[rng.randrange(users)]
            kind = rng.choice(("print", "print", "copy", "adjustment"))
            amount = rng.randint(5, 400) * (1 if kind == "adjustment" else -1)
            balances[user] += amount
            when = start + dt.timedelta(seconds=i * 120 * 86400 / txns)
            yield (f"t{i:08d}", user, kind, amount, balances[user], "EUR",
                   "admin:root" if kind == "adjustment" else f"dev-{i % 40}",
                   "Balance adjustment" if kind == "adjustment" else "",
                   "", when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), stamp,
                   "" if kind == "adjustment" else "s1",
                   "" if kind == "adjustment" else f"dev-{i % 40}",
                   None, None, None, "admin" if kind == "adjustment" else "device")

    con.executemany("INSERT INTO transactions (txn_id, username, type, amount, balance_after,"
                    " currency, transacted_by, system_note, comment, occurred_at, applied_at,"
                    " site, device, job_id, job_json, refund_of, origin) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
    con.executemany("UPDATE accounts SET balance = ? WHERE username = ?",
                    [(b, n) for n, b in balances.items()])
    con.commit()
    con.close()


def sessions(portal_db: Path, users: int, count: int) -> tuple[list[str], str]:
    """Cookies for `count` random users and one admin, made as sign-in would make them."""
    from central.storage.portal_accounts import PortalAccounts
    from central.web.auth import new_token, token_digest

    store = PortalAccounts(portal_db)
    now = time.time()
    db = sqlite3.connect(portal_db)
    cookies = []
    rng = random.Random(7)
    for name in ["root"] + [f"user{rng.randrange(users):05d}@example.org"
                            for _ in range(count)]:
        db.execute("INSERT OR IGNORE INTO web_users VALUES (?, ?, NULL, ?)",
                   (name, "admin" if name == "root" else "user", now))
        db.commit()
        token = new_token()
        store.add_session(token_digest(token), name, new_token(), now, now + 3600)
        cookies.append(f"pt_session={token}")
    return cookies[1:], cookies[0]


def serve(db: Path, portal_db: Path) -> None:
    """Child process: the web app alone on a free port; prints it."""
    from central.web.portal import Portal
    from central.web.server import WebServer

    portal = Portal.open(db, portal_db, db.with_name(db.name + ".secret"))
    server = WebServer(portal, "127.0.0.1", 0)
    server.start()
    print(server.port, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


def load(port: int, paths: list[str], cookies: list[str], seconds: float) -> None:
    """Child process: CONNECTIONS threads on keep-alive connections; prints latencies (ms)."""
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            path, cookie = rng.choice(paths), rng.choice(cookies)
            t0 = time.perf_counter()
            con.request("GET", path, headers={"Cookie": cookie})
            response = con.getresponse()
            response.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                with lock:
                    errors.append(f"{path}: {response.status}")
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"ms": times, "errors": errors[:5]}))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def measure(port: int, name: str, paths: list[str], cookies: list[str], seconds: float
            ) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.portal", "--load", str(port),
                          "--paths", json.dumps(paths), "--cookies", json.dumps(cookies),
                          "--seconds", str(seconds)], capture_output=True, text=True,
                         check=True).stdout
    result = json.loads(out)
    if result["errors"]:
        raise SystemExit(f"{name}: requests failed: {result['errors']}")
    ms = result["ms"]
    return {"requests": len(ms), "p50_ms": statistics.median(ms), "p95_ms": p95(ms),
            "rps": len(ms) / seconds}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--txns", type=int, default=1_000_000)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--load", type=int, help=argparse.SUPPRESS)
    p.add_argument("--paths", help=argparse.SUPPRESS)
    p.add_argument("--cookies", help=argparse.SUPPRESS)
    p.add_argument("--serve", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.load:
        load(args.load, json.loads(args.paths), json.loads(args.cookies), args.seconds)
        return
    if args.serve:
        serve(*args.serve)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db, portal_db = Path(tmp) / "ledger.db", Path(tmp) / "ledger.db.portal"
        t0 = time.perf_counter()
        build(db, args.users, args.txns)
        built_s = time.perf_counter() - t0
        user_cookies, admin_cookie = sessions(portal_db, args.users, 200)
        server = subprocess.Popen([sys.executable, "-m", "bench.portal", "--serve", str(db),
                                   str(portal_db)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        port = int(server.stdout.readline())
        some_user = "user00042@example.org"
        cases = [
            ("reference: static file", ["/static/portal.css"], user_cookies),
            ("user: transactions (100 of 90 days)", ["/transactions"], user_cookies),
            ("user: access code and balance", ["/"], user_cookies),
            ("admin: transaction log, first page", ["/admin/transactions"], [admin_cookie]),
            ("admin: transaction log, one user", [f"/admin/transactions?user={some_user}"],
             [admin_cookie]),
            ("admin: transaction log, type + dates", [
                "/admin/transactions?type=copy&from="
                + (dt.date.today() - dt.timedelta(days=30)).isoformat()], [admin_cookie]),
        ]
        try:
            results = {name: measure(port, name, paths, cookies, args.seconds)
                       for name, paths, cookies in cases}
        finally:
            server.stdin.close()  # type: ignore[union-attr]
            server.wait(20)
    ref = results["reference: static file"]["p95_ms"]
    print(f"ledger: {args.txns:,} transactions over {args.users:,} users (built in"
          f" {built_s:.1f} s); {CONNECTIONS} connections from a second process,"
          f" {args.seconds:g} s per page")
    print(f"{'page':<40} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'x ref':>7} {'req/s':>7}")
    for name, r in results.items():
        print(f"{name:<40} {r['requests']:>8} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
              f" {r['p95_ms'] / ref:>7.1f} {r['rps']:>7.0f}")
    pages = {k: v for k, v in results.items() if not k.startswith("reference")}
    worst = max(v["p95_ms"] for v in pages.values())
    print(f"goal p95 <= {GOAL_MS:g} ms: {'met' if worst <= GOAL_MS else 'NOT met'}"
          f" (worst {worst:.1f} ms)")
    print(json.dumps({"bench": "portal", "txns": args.txns, "users": args.users,
                      "connections": CONNECTIONS, "reference_p95_ms": round(ref, 2),
                      "pages": {k: {m: round(x, 2) for m, x in v.items()}
                                for k, v in pages.items()},
                      "worst_p95_ms": round(worst, 2), "goal_met": worst <= GOAL_MS}))


if __name__ == "__main__":
    main()
