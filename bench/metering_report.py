"""The bench's report: a table per device, the figures as JSON, ratios to the reference."""

from __future__ import annotations

import sqlite3
import statistics
from collections import Counter
from typing import Any

import tests.sync.conftest as sync_env
from bench.metering_device import RssSampler
from bench.metering_jobs import MIX, Outcome, expected_reason
from tests.agent_env import AgentEnv

REFERENCE = "reference"


def final_evidence(env: AgentEnv, job_key: str) -> str:
    """The agent's settled evidence for one job, read from its ledger (read-only)."""
    db = sqlite3.connect(f"file:{env.dir / 'ledger.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT data FROM evidence WHERE job_key = ? AND step = 'final' "
                         "ORDER BY id DESC LIMIT 1", (job_key,)).fetchone()
    finally:
        db.close()
    return row[0] if row else "(no final evidence)"


def at_central_once(env: sync_env.SyncEnv) -> bool:
    """Every txn the agent wrote is at central, each exactly once, with the same amount."""
    env.wait_drained(timeout=120)
    agent = {t["txn_id"]: t["amount"] for t in env.agent_txns()}
    rows = env.central_rows()
    central = {r.txn_id: r.amount for r in rows}
    once = len(rows) == len(central) and central == agent
    print(f"central holds {len(rows)} txns of the agent's {len(agent)}: "
          + ("each exactly once, amounts equal" if once else "MISMATCH"))
    return once


def pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def report(env: AgentEnv, outcomes: list[Outcome], rss: RssSampler,
           duration: float, detail_limit: int | None = None) -> dict[str, Any]:
    by = {v: [o for o in outcomes if o.verdict == v] for v in ("exact", "over", "under",
                                                              "review", "odd")}
    outside = len(outcomes) - len(by["review"])
    settle = [o.settle_s for o in outcomes if o.settle_s is not None]
    print(f"\n{'fault':<14}{'jobs':>6}{'exact':>7}{'over':>6}{'under':>7}{'review':>8}"
          f"{'settle p50':>12}{'p95':>8}  reasons")
    for kind, _ in MIX:
        mine = [o for o in outcomes if o.plan.fault == kind]
        if not mine:
            continue
        n = Counter(o.verdict for o in mine)
        s = [o.settle_s for o in mine if o.settle_s is not None]
        print(f"{kind:<14}{len(mine):>6}{n['exact']:>7}{n['over']:>6}{n['under']:>7}"
              f"{n['review']:>8}{pct(s, 50):>11.3f}s{pct(s, 95):>7.3f}s  "
              + ", ".join(f"{r} {c}" for r, c in Counter(o.reason for o in mine).items()))
    copies = [o for o in outcomes if o.plan.fault == "walk-up-copy"]
    print(f"walk-up copies that started during their job: "
          f"{sum(o.copy_interleaved for o in copies)} of {len(copies)}, before it settled: "
          f"{sum(o.copy_before_settle for o in copies)}")
    copy_reviews = sum(o.copy_before_settle for o in by["review"])
    print(f"reviews with a walk-up copy printed before the job settled: {copy_reviews} of "
          f"{len(by['review'])}")
    tenth = max(len(settle) // 10, 1)
    print(f"settle p95, first tenth of the run {pct(settle[:tenth], 95):.3f} s, last tenth "
          f"{pct(settle[-tenth:], 95):.3f} s")
    print(f"agent RSS while metering: first {rss.samples[0] / 2**20:.1f} MB, last "
          f"{rss.samples[-1] / 2**20:.1f} MB, peak {rss.max_rss / 2**20:.1f} MB; peak over "
          f"start-up and one login {(rss.login_peak or 0) / 2**20:.1f} MB")
    wrong = [o for o in outcomes if o.reason != expected_reason(o)]
    print(f"refund reason codes as expected: {len(outcomes) - len(wrong)} of {len(outcomes)}"
          + "".join(f"\n  {k}: got {g}, expected {e}: {c} jobs" for (k, g, e), c in
                    Counter((o.plan.fault, o.reason, expected_reason(o)) for o in wrong).items()))
    odd = [o for o in outcomes if o.verdict != "exact"]
    if detail_limit is not None and len(odd) > detail_limit:
        print(f"{len(odd)} jobs not exact; the first {detail_limit}:")
        odd = odd[:detail_limit]
    for o in odd:
        if o.verdict != "exact":
            print(f"{o.verdict.upper()} job {o.job_id} ({o.plan.fault}, {o.plan.pages} pages, "
                  f"at {o.plan.at}): charged {o.charged_pages} pages, printed {o.truth}, "
                  f"reason {o.reason}, note {o.review_note!r}\n"
                  f"  evidence: {final_evidence(env, o.job_key)}")
    figures = {
        "jobs": len(outcomes),
        "exact_outside_review": round(len(by["exact"]) / outside, 4) if outside else None,
        "review_share": round(len(by["review"]) / len(outcomes), 4),
        "review_without_copy": len(by["review"]) - copy_reviews,
        "over": len(by["over"]),
        "under": len(by["under"]),
        "settle_p50_s": round(pct(settle, 50), 3),
        "settle_p95_s": round(pct(settle, 95), 3),
        "settle_p99_s": round(pct(settle, 99), 3),
        "agent_rss_mb": round(rss.max_rss / 2**20, 1),
        "agent_rss_login_mb": round((rss.login_peak or 0) / 2**20, 1),
        "duration_s": round(duration, 1),
    }
    print(f"\nexact outside review {len(by['exact'])}/{outside}, review {len(by['review'])}, "
          f"settle p50 {figures['settle_p50_s']} s p95 {figures['settle_p95_s']} s p99 "
          f"{figures['settle_p99_s']} s "
          f"(max {max(settle):.3f} s), agent RSS max {figures['agent_rss_mb']} MB")
    return figures



def compare(figures: dict[str, dict[str, Any]]) -> None:
    """One line per device; settle and RSS also as ratios to the reference device."""
    ref = figures.get(REFERENCE)
    print(f"\n{'device':<40}{'jobs':>6}{'exact*':>8}{'review':>8}{'over':>6}{'under':>7}"
          f"{'p50 s':>8}{'p95 s':>8}{'p99 s':>8}{'RSS MB':>8}{'p95/ref':>9}{'RSS/ref':>9}")
    for label, f in figures.items():
        ratios = ("", "")
        if ref is not None:
            ratios = (f"{f['settle_p95_s'] / ref['settle_p95_s']:.2f}",
                      f"{f['agent_rss_mb'] / ref['agent_rss_mb']:.2f}")
            f["settle_p95_ratio"], f["rss_ratio"] = float(ratios[0]), float(ratios[1])
        print(f"{label:<40}{f['jobs']:>6}{f['exact_outside_review']!s:>8}"
              f"{f['review_share']:>8}{f['over']:>6}{f['under']:>7}{f['settle_p50_s']:>8}"
              f"{f['settle_p95_s']:>8}{f['settle_p99_s']:>8}{f['agent_rss_mb']:>8}{ratios[0]:>9}"
              f"{ratios[1]:>9}")
    print("exact* = share exact outside review; review = share of all jobs")
