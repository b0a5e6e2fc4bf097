"""The portal's read queries give the same answers on both stores.

The statement, the admin log (filters, pages, CSV stream), the user search and the review
queue carry the few bits of SQL that differ between SQLite and PostgreSQL (a JSON test,
case-insensitive search, no NUL in a parameter), so each is run on the same data in both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from central import admin
from central.storage.ledger import SqlLedger
from central.storage.portal_queries import LogFilter, PortalQueries
from contract import JobInfo, TxnPayload
from tests.postgres import PostgresServer

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def charge(ledger: SqlLedger, user: str, amount: int, *, review: bool, job: str,
           device: str = "dev-a", days_ago: int = 0) -> str:
    txn = TxnPayload(uuid.uuid5(uuid.NAMESPACE_URL, job), "s1", device, "print", user, -amount,
                     "EUR", NOW - dt.timedelta(days=days_ago),
                     JobInfo(job, "report.pdf", "MFD-1", pages=3, estimate=amount,
                             review=review), note=f"job {job}")
    assert ledger.apply_txn(txn, device).status == "applied"
    return str(txn.txn_id)


def fill(url: str) -> None:
    ledger = SqlLedger(url)
    try:
        admin.add_user(ledger, "Alice", "Alice Liddell", 5000, restricted=True,
                       credit_limit=0, groups=["staff"])
        admin.add_user(ledger, "bob", "Bob 100%_Builder", 5000, restricted=False,
                       credit_limit=0, groups=[])
        flagged = charge(ledger, "Alice", 400, review=True, job="j1")
        charge(ledger, "bob", 300, review=True, job="j2", device="dev-b")
        charge(ledger, "bob", 100, review=False, job="j3", days_ago=120)
        charge(ledger, "Alice", 50, review=False, job="j4", days_ago=3)
        admin.refund_txn(ledger, flagged, "jammed", by="admin")
        admin.post(ledger, "bob", "adjustment", 120, note="Balance adjustment",
                   comment="part of j2", origin="admin", by="admin",
                   job_json='{"job_id": "j2"}')
    finally:
        ledger.close()


def answers(url: str) -> dict[str, object]:
    """Everything the portal reads, with the store's own ids and times taken out."""
    q = PortalQueries(url)

    def rows(records: list) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
        return [(r.username, r.type, r.amount, r.balance_after, r.system_note, r.origin,
                 r.job_id, r.device) for r in records]

    log = q.log(LogFilter())
    page_one = q.log(LogFilter(), limit=2)
    page_two = q.log(LogFilter(), before=page_one[-1][0], limit=2)
    return {
        "statement": rows(q.statement("bob", NOW)),
        "200 days": rows(q.statement("bob", NOW, days=200)),
        "log": rows([r for _, r in log]),
        "pages": rows([r for _, r in page_one + page_two]),
        "by device": rows([r for _, r in q.log(LogFilter(device="dev-b"))]),
        "by type": rows([r for _, r in q.log(LogFilter(type="refund"))]),
        "since": rows([r for _, r in q.log(LogFilter(since=(NOW - dt.timedelta(days=5)).date()))]),
        "csv": rows(list(q.log_all(LogFilter(user="Alice")))),
        "search alice": q.accounts("alice"),
        "search %_": q.accounts("100%_"),
        "search none": q.accounts("_x%"),
        "review": [(r.username, r.amount, back) for r, back in q.review_queue()],
        "account": q.account("Alice"),
        "currency": q.currency(),
    }


def test_both_stores_answer_the_portal_alike(postgres: PostgresServer, tmp_path: Path) -> None:
    sqlite_url = str(tmp_path / "portal.db")
    pg_url = postgres.new_database("portal")
    for url in (sqlite_url, pg_url):
        fill(url)
    on_sqlite, on_pg = answers(sqlite_url), answers(pg_url)
    assert on_pg == on_sqlite
    assert on_pg["review"] == [("bob", -300, 120), ("Alice", -400, 400)]
    assert [a[0] for a in on_pg["search alice"][0]] == ["Alice"]  # type: ignore[index]
    assert [a[0] for a in on_pg["search %_"][0]] == ["bob"]  # type: ignore[index]
    assert on_pg["search none"] == ([], 0)
    assert len(on_pg["statement"]) == 3 and len(on_pg["200 days"]) == 4  # type: ignore[arg-type]
    assert len(on_pg["log"]) == 8  # type: ignore[arg-type]
    assert on_pg["pages"] == on_pg["log"][:4]  # type: ignore[index]
