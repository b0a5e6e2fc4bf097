"""Membership at scale against the OfficeRnD stand-in over HTTP: first sync, re-sync, fee run.

Phases, on one stand-in (5,000 members in 500 companies by default) and one SQLite ledger:
1. reference: reading the whole directory over HTTP with the OfficeRnD client (every page of
   companies and members, nothing written), the floor any sync over this API has;
2. first sync into an empty ledger (read, plan, one commit); goal: <= 5 s (the seeds'
   anchor: about 20 minutes for 5,000 members);
3. re-sync after 5% of the members changed (company moves and renames);
4. fee run over every user with a negative balance (a fee booked over HTTP and an
   adjustment posted per user), against a reference of the same number of bare fee POSTs.
Prints a table, then one JSON line with the figures last.
Run: .venv/bin/python -m bench.members [--members 5000] [--companies 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from central.feerun import run_fees
from central.members.officernd import OfficeRnD, OfficeRnDSettings
from central.members.source import FeeRequest
from central.members.sync import sync
from central.storage.ledger import SqlLedger
from central.storage.records import Posting
from tests.central.officernd_standin import StandIn

FIRST_SYNC_GOAL_S = 5.0


def build(members: int, companies: int) -> StandIn:
    standin = StandIn().start()
    for c in range(companies):
        standin.add_company(f"c{c:04d}", f"Company {c}")
    for m in range(members):
        standin.add_member(f"m{m:05d}", f"Member {m}", f"member{m}@example.org",
                           company=f"c{m % companies:04d}")
    return standin


def client(standin: StandIn) -> OfficeRnD:
    return OfficeRnD(OfficeRnDSettings(standin.org, standin.client_id, standin.client_secret,
                                       standin.url, standin.url))


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=5000)
    p.add_argument("--companies", type=int, default=500)
    args = p.parse_args(argv)
    standin = build(args.members, args.companies)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = SqlLedger(Path(tmp) / "bench.db")
        source = client(standin)
        directory, fetch_s = timed(source.directory)
        assert len(directory.members) == args.members

        first, first_s = timed(lambda: sync(ledger, source))
        assert first.plan.summary()["create"] == args.members, first.report

        changed = args.members // 20
        for m in standin.members[:changed:2]:
            m["company"] = "c0001" if m["company"] == "c0000" else "c0000"
        for m in standin.members[1:changed:2]:
            m["name"] += " (renamed)"
        again, resync_s = timed(lambda: sync(ledger, source))
        assert again.plan.summary()["update"] == changed, again.report

        ledger.post([Posting(f"bench-{n}", u, -(n % 900 + 1), "admin", "bench", "debt")
                     for n, u in enumerate(sorted(ledger.account_index()))])
        bare = client(standin)
        _, post_ref_s = timed(lambda: [bare.create_fee(FeeRequest(
            f"m{n:05d}", 100, "EUR", f"ref-bench-{n}", dt.date(2026, 3, 2)))
            for n in range(args.members)])
        report, fees_s = timed(lambda: run_fees(ledger, source, "feerun:bench",
                                                dt.date(2026, 3, 2)))
        assert len(report.fees) == args.members and not report.failed
        assert all(balance == 0 for _, balance, _ in ledger.account_index().values())
        ledger.close()
    standin.stop()
    figures = {
        "members": args.members, "companies": args.companies,
        "fetch_s": round(fetch_s, 3), "first_sync_s": round(first_s, 3),
        "first_sync_vs_fetch": round(first_s / fetch_s, 2),
        "first_sync_goal_s": FIRST_SYNC_GOAL_S, "first_sync_met": first_s <= FIRST_SYNC_GOAL_S,
        "resync_5pct_s": round(resync_s, 3), "resync_vs_fetch": round(resync_s / fetch_s, 2),
        "fee_run_s": round(fees_s, 3), "bare_fee_posts_s": round(post_ref_s, 3),
        "fee_run_vs_bare_posts": round(fees_s / post_ref_s, 2),
        "fees_per_s": round(args.members / fees_s, 1),
    }
    rows = [("read the directory (reference)", fetch_s, 1.0),
            ("first sync into an empty ledger", first_s, first_s / fetch_s),
            ("re-sync, 5% changed", resync_s, resync_s / fetch_s),
            (f"{args.members} bare fee POSTs (reference)", post_ref_s, 1.0),
            (f"fee run over {args.members} users", fees_s, fees_s / post_ref_s)]
    print(f"{'phase':<40} {'seconds':>9} {'ratio':>7}")
    for name, seconds, ratio in rows:
        print(f"{name:<40} {seconds:>9.3f} {ratio:>7.2f}")
    print(f"first sync goal <= {FIRST_SYNC_GOAL_S} s: "
          f"{'met' if figures['first_sync_met'] else 'NOT met'}")
    print(json.dumps(figures))
    return 0 if figures["first_sync_met"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
