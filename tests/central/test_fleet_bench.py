"""bench/fleet.py --quick end to end: light devices, Mosquitto, two central instances and a
real PostgreSQL. Only its correctness figures are checked (no timing): every txn the fleet
sent is in the ledger once, acked once as applied, every balance adds up, every sign-in was
answered for the right user."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT


def test_fleet_bench_quick_loses_and_duplicates_nothing() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.fleet", "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["devices"] == 20 and figures["centrals"] == 2
    assert figures["sent"] > 0
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["unexpected"] == 0
    assert figures["held"] == figures["sent"] == figures["applied_acks"]
    assert figures["not_acked_applied"] == 0 and figures["applied_twice"] == 0
    assert figures["rejected"] == 0 and figures["unacked"] == 0
    assert figures["money_off"] == 0
    assert figures["auths"] > 0
    assert figures["auth_wrong"] == 0 and figures["auth_unanswered"] == 0
    assert figures["steady_txn_per_s"] > 0 and figures["burst_txn_per_s"] > 0
    assert figures["raw_per_s"] > 0
