"""The batch plan of central's ledger: one batch gives what the same txns one by one give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from central.storage.apply import BatchPlan, Seen, plan_batch
from contract import TxnPayload
from tests.central.mqtt_client import make_txn

USERS = ("alice", "bob", "ghost")  # ghost has no account
BALANCES = {"alice": 1000, "bob": -50}


def one_by_one(txns: list[tuple[TxnPayload, str]], seen: dict[str, Seen],
               balances: dict[str, int]) -> BatchPlan:
    whole = BatchPlan()
    for item in txns:
        step = plan_batch([item], seen, balances, "EUR")
        whole.results += step.results
        whole.inserts += step.inserts
        for txn, _, after in step.inserts:
            seen[str(txn.txn_id)] = (txn.user, txn.type, txn.amount)
            balances[txn.user] = whole.balances[txn.user] = after
    return whole


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[TxnPayload, str]]:
    pool = [make_txn(draw(st.sampled_from(USERS)), draw(st.integers(-500, 0)))
            for _ in range(draw(st.integers(1, 6)))]
    picks = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=25))
    out = []
    for txn in picks:
        if draw(st.booleans()) and draw(st.booleans()):  # the same txn_id, another amount
            txn = TxnPayload(**{**{f: getattr(txn, f) for f in txn.__struct_fields__},
                                "amount": txn.amount - 1})
        if draw(st.integers(0, 9)) == 0:
            txn = TxnPayload(**{**{f: getattr(txn, f) for f in txn.__struct_fields__},
                                "currency": "USD"})
        out.append((txn, "dev-a"))
    return out


@settings(max_examples=300)
@given(batches())
def test_a_batch_is_the_txns_one_by_one(txns: list[tuple[TxnPayload, str]]) -> None:
    together = plan_batch(txns, {}, BALANCES, "EUR")
    apart = one_by_one(txns, {}, dict(BALANCES))
    assert together.results == apart.results
    assert together.inserts == apart.inserts
    assert together.balances == apart.balances


def test_the_outcomes_in_words() -> None:
    charge = make_txn("alice", -120)
    clash = TxnPayload(**{**{f: getattr(charge, f) for f in charge.__struct_fields__},
                          "amount": -1})
    plan = plan_batch([(charge, "dev-a"), (charge, "dev-a"), (clash, "dev-b"),
                       (make_txn("ghost", -1), "dev-a")], {}, BALANCES, "EUR")
    assert [(r.status, r.balance) for r in plan.results] == [
        ("applied", 880), ("duplicate", 880), ("rejected", 880), ("rejected", 0)]
    assert plan.results[2].reason == (f"txn_id {charge.txn_id} was already used for a different"
                                      " transaction (print of -120 for 'alice')")
    assert plan.results[3].reason == "there is no user 'ghost'"
    assert plan.balances == {"alice": 880} and len(plan.inserts) == 1
