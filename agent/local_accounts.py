"""Standalone mode: balances from the local accounts file plus the local ledger's movements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agent.accounts import Credit
from agent.api.payloads import Row
from agent.ledger import Ledger
from agent.money import format_money

MAX_ROWS = 100
MAX_AGE = timedelta(days=90)


class LedgerBalances:
    """Opening balance from the accounts file; every local charge and refund applied on top."""

    def __init__(self, opening: Callable[[str], Credit], ledger: Ledger) -> None:
        self.opening = opening
        self.ledger = ledger

    async def credit(self, user: str) -> Credit:
        base = self.opening(user)
        return Credit(base.balance + self.ledger.user_net(user), base.restricted,
                      base.credit_limit)

    async def transactions(self, user: str) -> list[Row]:
        """The portal's seven columns, newest first, running balance included."""
        base = self.opening(user).balance
        txns = self.ledger.txns(user=user)
        rows, balance = [], base
        since = (datetime.now(UTC) - MAX_AGE).isoformat()
        for txn in sorted(txns, key=lambda t: t.seq):
            balance += txn.amount
            if txn.occurred_at < since:
                continue
            rows.append(Row(
                date=txn.occurred_at,
                transacted_by=self.ledger.device,
                type=txn.type,
                system_note=txn.note,
                comment="",
                amount=txn.amount,
                amount_text=format_money(txn.amount, txn.currency),
                balance=balance,
                balance_text=format_money(balance, txn.currency),
            ))
        return rows[::-1][:MAX_ROWS]
