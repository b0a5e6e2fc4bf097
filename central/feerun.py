"""The daily fee run: each negative balance becomes a fee in the membership system, and an
adjustment brings the balance back to zero.

Exactly once, across crashes: the fee run first writes an *intent* (user, member, amount and
a reference) in the ledger, then books the fee carrying that reference, and posts the
adjustment together with the intent's end (and the fee's id) in one commit, a batch of
users at a time. Whatever step a crash interrupts, the next run finds the open intents and
finishes them: it asks the membership system for a fee with the intent's reference before
booking one, so a fee is never booked twice and never left without its adjustment. The fee
and the adjustment are always the intent's amount, so the two systems agree to the cent.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from central.members.source import FeeRequest, MembershipError, MembershipSource
from central.storage.base import Ledger
from central.storage.records import FeeIntent, Posting

FEES_SETTING = "fees.managed_here"
RUN_AT_SETTING = "fees.run_at"
DEFAULT_RUN_AT = "07:30"
TRANSACTED_BY = "fee run"
NAMESPACE = uuid.UUID("0b7e3a52-8d4f-5a8e-9c61-2f0d4b6a1e37")
BATCH = 100  # adjustments per commit


def fees_managed_here(ledger: Ledger) -> bool:
    """The site-wide switch: "no" means printing fees are not billed in the source."""
    return (ledger.get_setting(FEES_SETTING) or "yes") == "yes"


@dataclass
class FeeReport:
    day: str
    off: bool = False
    fees: list[dict[str, object]] = field(default_factory=list)
    failed: list[dict[str, object]] = field(default_factory=list)
    unlinked: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> str:
        total = sum(int(f["amount"]) for f in self.fees)  # type: ignore[call-overload]
        return json.dumps({"day": self.day, "off": self.off, "total": total,
                           "fees": self.fees, "failed": self.failed,
                           "unlinked": self.unlinked})


def _reference(key: str, username: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{key}\0{username}"))


def _posting(intent: FeeIntent, fee_id: str) -> Posting:
    return Posting(str(uuid.uuid5(NAMESPACE, f"post\0{intent.reference}")), intent.username,
                   intent.amount, "fee_run", TRANSACTED_BY, f"Printing fee {fee_id}", "",
                   occurred_at=dt.datetime.now(dt.UTC))


def _finish(ledger: Ledger, source: MembershipSource, intents: list[FeeIntent], day: dt.date,
            report: FeeReport, crash: Callable[[str], None], *, fresh: bool) -> None:
    """Book (or find) each intent's fee, then post the adjustments, a batch per commit.

    A `fresh` intent was written by this run and never sent, so its fee cannot exist yet;
    any other is looked up by its reference first. A crash between booking and the commit
    leaves the intents open, and the next run finds their fees instead of booking again.
    """
    for start in range(0, len(intents), BATCH):
        booked: list[tuple[FeeIntent, str]] = []
        for intent in intents[start:start + BATCH]:
            try:
                fee_id = None if fresh else source.find_fee(intent.member_id,
                                                            intent.reference)
                if fee_id is None:
                    crash("before_fee")
                    fee_id = source.create_fee(FeeRequest(
                        intent.member_id, intent.amount, ledger.currency, intent.reference,
                        day))
                    crash("after_fee")
            except MembershipError as exc:
                report.failed.append({"user": intent.username, "amount": intent.amount,
                                      "error": str(exc)})
                continue
            booked.append((intent, fee_id))
        results = ledger.post_fees([(i.reference, fee_id, _posting(i, fee_id))
                                    for i, fee_id in booked])
        crash("after_post")
        report.fees.extend({"user": i.username, "member": i.member_id, "amount": i.amount,
                            "fee_id": fee_id, "balance": r.balance, "run": i.run_key}
                           for (i, fee_id), r in zip(booked, results, strict=True))


def run_fees(ledger: Ledger, source: MembershipSource, key: str, day: dt.date,
             crash: Callable[[str], None] = lambda step: None) -> FeeReport:
    """One fee run (the caller holds the run's claim). Open intents of earlier runs are
    finished first, then today's negative balances get theirs."""
    report = FeeReport(day.isoformat())
    if not fees_managed_here(ledger):
        report.off = True
        return report
    _finish(ledger, source, ledger.fee_intents(open_only=True), day, report, crash,
            fresh=False)
    pending = {i.username for i in ledger.fee_intents(open_only=True)}
    billed = {i.username for i in ledger.fee_intents(key)}
    intents = []
    for username, balance, member_id in ledger.negative_balances(source.key):
        if username in pending or username in billed:
            continue  # an earlier fee is still open (failed above), or this run billed it
        if member_id is None:
            report.unlinked.append({"user": username, "balance": balance})
            continue
        intents.append(FeeIntent(_reference(key, username), key, username, member_id,
                                 -balance, "intent"))
    ledger.add_fee_intents(intents)
    crash("intents_written")
    _finish(ledger, source, intents, day, report, crash, fresh=True)
    return report
