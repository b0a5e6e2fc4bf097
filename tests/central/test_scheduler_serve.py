"""`pagetally central serve` runs the scheduler: a quota due before it started runs once."""

from __future__ import annotations

import datetime as dt
import time

from central.storage.ledger import SqlLedger
from central.storage.records import Quota
from tests.central.conftest import START_BALANCE, CentralRunner, LedgerAt
from tests.mosquitto import Mosquitto


def test_serve_runs_due_quotas_once_across_two_instances(ledger_db: LedgerAt,
                                                         broker: Mosquitto) -> None:
    ledger = SqlLedger(ledger_db.url)
    ledger.add_quota(Quota("Daily", "staff", "daily", 250, at="00:00",
                           created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3)))
    runners = [CentralRunner(ledger_db, broker, ("--client-id", f"central-{n}"))
               for n in range(2)]
    try:
        for runner in runners:
            runner.start()
        deadline = time.monotonic() + 20
        while ledger.get_account("alice").balance == START_BALANCE:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the scheduler did not run the quota"
            time.sleep(0.05)
        runs = ledger.runs("quota")
        assert len(runs) == 1 and runs[0].state == "done"
        assert runs[0].key == f"quota:Daily:{dt.datetime.now(dt.UTC).date().isoformat()}"
        assert ledger.get_account("alice").balance == START_BALANCE + 250  # type: ignore[union-attr]
        assert [r.system_note for r in ledger.transactions("alice", limit=1)] == ["Daily"]
    finally:
        for runner in runners:
            for child in runner.runs:
                child.stop()
