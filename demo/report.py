"""What the demo proves, printed for people: statements, the device's counters, the checks.

Each check compares two independent sources (the agent's settlement against the account's
balance, or against the simulator's own counters) and says plainly whether they agree.
"""

from __future__ import annotations

from typing import Any

from demo.copying import CopyStory, kinds_text
from demo.scenario import Released
from demo.world import CURRENCY, money, user

TABLE = "    {job:<22} {pages:>9} {estimate:>9} {charged:>8} {refunded:>9}  {why}"
HISTORY_ROWS = 8


def check(ok: bool, text: str) -> bool:
    print(f"    {'OK' if ok else 'MISMATCH'}: {text}")
    return ok


def statement(name: str, summary: dict[str, Any], released: list[Released],
              copies: list[CopyStory]) -> bool:
    """One user's charges and refunds; True when opening minus charges is the balance."""
    u = user(name)
    mine = [r for r in released if r.job.user == name]
    my_copies = [c.result for c in copies if c.user == name]
    charged = sum(int(r.result["charged"]) for r in mine) + sum(
        int(c["charged"]) for c in my_copies)
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
    for c in my_copies:
        why = kinds_text(c["pages_by_kind"]) + ("  [sent to review]" if c["review"] else "")
        print(TABLE.format(job="Copy session", pages=f"{c['pages']} copies", estimate="-",
                           charged=money(int(c["charged"])), refunded="-", why=why))
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


def ground_truth(state: dict[str, Any], released: list[Released], copies: list[CopyStory],
                 start_total: int) -> bool:
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
    for c in copies:
        charged_for = int(c.result["pages"])
        print(f"    {'Copy session':<22} {c.user:<6} {c.pages:>16} {charged_for:>22}")
        ok &= c.pages == charged_for
    counters = state["counters"]
    made = int(counters["true_total"]) - start_total
    printed = sum(int(r.result["printed"]) for r in released)
    copied = sum(int(c.result["pages"]) for c in copies)
    print(f"    device life counter: {counters['true_total']} impressions"
          f" ({counters['true_mono']} mono, {counters['true_color']} colour);"
          f" SNMP reports {counters['reported_life']}")
    ok &= check(made == printed + copied,
                f"the device made {made} impressions during the demo; PageTally charged"
                f" for {printed + copied} ({printed} printed, {copied} copied)")
    return ok


def copy_checks(story: CopyStory, prices: dict[str, int]) -> bool:
    """The copy session against the copier's own count and the price list."""
    r = story.result
    cost = sum(prices[kind] * n for kind, n in story.made.items())
    ok = check(r["pages_by_kind"] == {k: n for k, n in story.made.items() if n}
               and r["board_pages"] == r["counter_pages"] == story.pages,
               f"the copier made {story.pages} pages ({kinds_text(story.made)}); the board"
               f" counted {r['board_pages']}, the device's counters {r['counter_pages']}")
    ok &= check(int(r["charged"]) == cost and not r["review"],
                f"{story.user} was charged {money(int(r['charged']))} for the copies; the price"
                f" list says {money(cost)}")
    return ok & check(story.refused_after == 1,
                      "after Stop the copier is off: a walk-up copy is refused")


def central_copies(name: str, session_key: str, rows: list[dict[str, str]],
                   expected: int) -> bool:
    """Central's export holds the copy session exactly once, with the device's amount."""
    mine = [r for r in rows if r["type"] == "copy" and r["job_id"] == session_key]
    amounts = ", ".join(r["amount"] for r in mine) or "none"
    return check(len(mine) == 1 and mine[0]["username"] == name
                 and mine[0]["amount"] == money(-expected),
                 f"central's ledger holds {name}'s copy session {session_key} once:"
                 f" {amounts}; the device charged {money(expected)}")


def central_view(name: str, expected: int, seen: int, shown: str) -> bool:
    print(f"\n    $ pagetally central show {name} --db central.db")
    for line in shown.rstrip().splitlines():
        print(f"      {line}")
    return check(seen == expected, f"central's balance for {name} is {money(seen)};"
                                   f" the device settled to {money(expected)}")
