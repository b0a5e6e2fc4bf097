"""A membership sync: read the source, plan with the rules, confirm, apply in one commit.

The first sync of a source into a ledger that has users asks for confirmation when users
have negative balances, since the daily fee run would bill each of them in the membership
system. Every sync that changes the ledger leaves a report in the `runs` table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from central.format import money_list
from central.members.rules import AccountInfo, LedgerView, MemberFilter, SyncPlan, plan
from central.members.source import MembershipError, MembershipSource
from central.storage.base import Ledger

FIRST_DONE_SETTING = "membership.first_sync_done"
FILTER_SETTING = "membership.filter"


class NeedsConfirmation(MembershipError):
    """The first sync would leave users with negative balances for the fee run to bill."""


@dataclass
class SyncResult:
    plan: SyncPlan
    applied: bool
    report: str


def view_of(ledger: Ledger, source: MembershipSource) -> LedgerView:
    return LedgerView({u: AccountInfo(n, b, g) for u, (n, b, g)
                       in ledger.account_index().items()}, ledger.member_links(source.key))


def first_sync_pending(ledger: Ledger, source: MembershipSource) -> bool:
    return ledger.get_setting(FIRST_DONE_SETTING) != source.key


def sync(ledger: Ledger, source: MembershipSource, *, dry_run: bool = False,
         confirm_negatives: bool = False) -> SyncResult:
    directory = source.directory()
    first = first_sync_pending(ledger, source)
    wanted_by = MemberFilter.from_json(ledger.get_setting(FILTER_SETTING))
    the_plan = plan(directory, wanted_by, view_of(ledger, source), first=first)
    report = json.dumps({"source": source.key, "dry_run": dry_run, **the_plan.summary()})
    if dry_run:
        return SyncResult(the_plan, False, report)
    if the_plan.negatives and not confirm_negatives:
        raise NeedsConfirmation(
            f"{len(the_plan.negatives)} user(s) have a negative balance, and the daily fee"
            " run would create a fee for each in the membership system:\n  "
            + money_list(the_plan.negatives, ledger.currency)
            + "\nadjust their balances first, or run the first sync again with"
            " --confirm-negatives")
    ledger.sync_accounts(the_plan.change, source.key,
                         {FIRST_DONE_SETTING: source.key} if first else None)
    return SyncResult(the_plan, True, report)


def record(ledger: Ledger, result: SyncResult, key: str, owner: str, now: dt.datetime
           ) -> None:
    """Keep an on-demand sync's report beside the scheduled ones'."""
    if ledger.claim_run(key, "sync", now, owner, now, 60) == "claimed":
        ledger.finish_run(key, owner, result.report)
