"""What the demo proves, printed for people: statements, the device's counters, the checks.

Each check compares two independent sources (the agent's settlement against the account's
balance, or against the simulator's own counters) and says plainly whether they agree.
"""

from __future__ import annotations

from typing import Any

from demo.scenario import Released
from demo.world import CURRENCY, money, user

TABLE = "    {job:<22} {pages:>9} {estimate:>9} {charged:>8} {refunded:>9}  {why}"
HISTORY_ROWS = 8


def check(ok: bool, text: str) -> bool:
    print(f"    {'OK' if ok else 'MISMATCH'}: {text}")
    return ok


def statement(name: str, summary: dict[str, Any], released: list[Released]) -> bool:
    """One user's charges and refunds; True when opening minus charges is the balance."""
    u = user(name)
    mine = [r for r in released if r.job.user == name]
    charged = sum(int(r.result["charged"]) for r in mine)
    closing = int(summary["balance"])
    print(f"\n  {name} ({u.display_name})")
    print(f"    opening balance {money(u.balance):>36}")
    print(TABLE.format(job="job", pages="pages", estimate="estimate", charged="charged",
                       refunded="refunded", why="why"))
    for r in mine:
        res = r.result
        why = res["reason_text"] + ("  [sent to review]" if res.get("review") else "")
        print(TABLE.format(job=r.job.title, pages=f"{res['printed']} of {res['total']}",
                           estimate=money(r.estimate), charged=money(int(res["charged"])),
                           refunded=money(int(res["refunded"])), why=why))
    print(f"    closing balance {money(closing):>36} {CURRENCY}")
    ok = check(u.balance - charged == closing,
               f"{money(u.balance)} opening - {money(charged)} charged ="
               f" {money(u.balance - charged)}; the account says {money(closing)}")
    rows = summary.get("transactions") or []
    if rows:
        print(f"    account history (account.summary, newest first, {len(rows)} rows):")
        for row in rows[:HISTORY_ROWS]:
            date = str(row["date"])[:19].replace("T", " ")
            note = row["system_note"] + (f" / {row['comment']}" if row.get("comment") else "")
            print(f"      {date}  {row['type']:<10} {row['amount_text']:>7}"
                  f" {row['balance_text']:>7}  {note}")
    return ok


def ground_truth(state: dict[str, Any], released: list[Released], start_total: int) -> bool:
    """The simulator's true per-job pages and counters against what PageTally charged for."""
    jobs = {int(j["id"]): j for j in state["jobs"]}
    print("    {:<22} {:<6} {:>16} {:>22}".format("job", "user", "device printed",
                                                   "PageTally charged for"))
    ok = True
    for r in released:
        truth = int(jobs[r.ipp_id]["printed"]) if r.ipp_id in jobs else -1
        charged_for = int(r.result["printed"])
        print(f"    {r.job.title:<22} {r.job.user:<6} {truth:>16} {charged_for:>22}")
        ok &= truth == charged_for
    counters = state["counters"]
    printed = int(counters["true_total"]) - start_total
    charged_pages = sum(int(r.result["printed"]) for r in released)
    print(f"    device life counter: {counters['true_total']} impressions"
          f" ({counters['true_mono']} mono, {counters['true_color']} colour);"
          f" SNMP reports {counters['reported_life']}")
    ok &= check(printed == charged_pages,
                f"the device printed {printed} impressions during the demo;"
                f" PageTally charged for {charged_pages}")
    return ok


def central_view(name: str, expected: int, seen: int, shown: str) -> bool:
    print(f"\n    $ pagetally central show {name} --db central.db")
    for line in shown.rstrip().splitlines():
        print(f"      {line}")
    return check(seen == expected, f"central's balance for {name} is {money(seen)};"
                                   f" the device settled to {money(expected)}")
