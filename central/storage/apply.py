"""Which txns of a batch apply, and with what balances: pure, so a whole batch needs two reads
and two bulk writes instead of four statements a txn (a round trip each on PostgreSQL).

The outcome is exactly what applying the txns one by one, in order, would give: a txn_id
seen before (in the ledger or earlier in the batch) is a duplicate, or a rejection if it
names a different transaction; an unknown user or another currency is rejected; anything
else moves the user's running balance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from central.storage.base import ApplyResult
from contract import TxnPayload

#: (username, type, amount) of a txn already in the ledger, by txn_id
Seen = tuple[str, str, int]


@dataclass
class BatchPlan:
    results: list[ApplyResult] = field(default_factory=list)
    #: the txns to insert, each with who sent it and the balance after it
    inserts: list[tuple[TxnPayload, str, int]] = field(default_factory=list)
    #: the final balance of every user whose balance changed
    balances: dict[str, int] = field(default_factory=dict)


def plan_batch(txns: Sequence[tuple[TxnPayload, str]], seen: Mapping[str, Seen],
               balances: Mapping[str, int], currency: str) -> BatchPlan:
    plan = BatchPlan()
    known = dict(seen)
    running = dict(balances)
    for txn, transacted_by in txns:
        txn_id = str(txn.txn_id)
        prior = known.get(txn_id)
        balance = running.get(prior[0] if prior else txn.user, 0)
        if prior is not None:
            if prior != (txn.user, txn.type, txn.amount):
                plan.results.append(ApplyResult(
                    txn_id, "rejected", balance,
                    f"txn_id {txn_id} was already used for a different transaction"
                    f" ({prior[1]} of {prior[2]} for {prior[0]!r})"))
            else:
                plan.results.append(ApplyResult(txn_id, "duplicate", balance))
        elif txn.user not in running:
            plan.results.append(ApplyResult(txn_id, "rejected", 0,
                                            f"there is no user {txn.user!r}"))
        elif txn.currency != currency:
            plan.results.append(ApplyResult(
                txn_id, "rejected", balance,
                f"currency {txn.currency} does not match the ledger's {currency}"))
        else:
            balance += txn.amount
            running[txn.user] = plan.balances[txn.user] = balance
            known[txn_id] = (txn.user, txn.type, txn.amount)
            plan.inserts.append((txn, transacted_by, balance))
            plan.results.append(ApplyResult(txn_id, "applied", balance))
    return plan
