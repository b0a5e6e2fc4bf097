"""Who may spend how much: the seam between the agent and where accounts live.

Standalone mode reads opening balances from the local accounts file and adds the local
ledger's movements; central mode (agent.sync) asks central and adds what is not yet acked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.api.payloads import Row


@dataclass(frozen=True)
class Credit:
    balance: int
    restricted: bool = True
    credit_limit: int = 0

    @property
    def available(self) -> int | None:
        """Money the user may still spend; None means unrestricted."""
        return self.balance + self.credit_limit if self.restricted else None


class Balances(Protocol):
    async def credit(self, user: str) -> Credit: ...
    async def transactions(self, user: str) -> list[Row]: ...
