"""The storage interface of the central ledger, so a server database can replace SQLite later.

Every method that changes money runs in one database transaction: a txn is either fully
applied (transaction row + balance) or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from central.storage.records import AccountSync, FeeIntent, Group, Posting, Quota, Run
from contract import TxnPayload

# "unchanged": a posting that worked out to no change (a reset to the balance it had).
ApplyStatus = Literal["applied", "duplicate", "rejected", "unchanged"]
ClaimResult = Literal["claimed", "done", "busy"]


class StorageError(Exception):
    """A request the ledger refuses (unknown user, code already in use, ...), in plain words."""


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    display_name: str
    balance: int
    restricted: bool
    credit_limit: int
    groups: tuple[str, ...] = ()

    @property
    def available(self) -> int | None:
        """What the user may still spend; None means unrestricted (no limit)."""
        return self.balance + self.credit_limit if self.restricted else None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    txn_id: str
    status: ApplyStatus
    balance: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TxnRecord:
    txn_id: str
    username: str
    type: str
    amount: int
    balance_after: int
    currency: str
    transacted_by: str
    system_note: str
    comment: str
    occurred_at: dt.datetime
    applied_at: dt.datetime
    site: str
    device: str
    job_id: str | None
    job_json: str | None
    refund_of: str | None
    origin: str = "device"


@dataclass(frozen=True, slots=True)
class Rejection:
    txn_id: str | None
    site: str
    device: str
    reason: str
    at: dt.datetime


class Ledger(Protocol):
    """What central needs from a database."""

    currency: str

    def add_account(self, username: str, display_name: str, *, restricted: bool,
                    credit_limit: int, groups: Sequence[str]) -> Account: ...

    def update_account(self, username: str, *, display_name: str | None = None,
                       restricted: bool | None = None, credit_limit: int | None = None,
                       groups: Sequence[str] | None = None) -> Account: ...

    def get_account(self, username: str) -> Account | None: ...

    def accounts(self) -> list[Account]: ...

    def set_code(self, username: str, lookup_tag: str, code_hash: str) -> None: ...

    def code_hash_for_tag(self, lookup_tag: str) -> tuple[str, str] | None:
        """(username, argon2 hash) for a lookup tag, or None."""
        ...

    def set_pin(self, username: str, pin_hash: str | None) -> None:
        """Set (or, with None, clear) the argon2 hash of a user's card + PIN PIN."""
        ...

    def pin_hash(self, username: str) -> str | None: ...

    def add_card(self, username: str, card_number: str) -> None: ...

    def account_for_card(self, card_number: str) -> Account | None: ...

    def apply_txn(self, txn: TxnPayload, transacted_by: str) -> ApplyResult: ...

    def apply_batch(self, txns: Sequence[tuple[TxnPayload, str]]) -> list[ApplyResult]:
        """Apply many txns in ONE commit; results are in input order."""
        ...

    def post(self, postings: Sequence[Posting]) -> list[ApplyResult]:
        """Apply central's own postings (admin, schedule, fee run, import, refund) in ONE
        commit; each once by its posting_id, like a device txn by its txn_id."""
        ...

    def record_rejection(self, txn_id: str | None, site: str, device: str, reason: str,
                         payload: bytes) -> None: ...

    def rejections(self, limit: int = 100) -> list[Rejection]: ...

    def get_txn(self, txn_id: str) -> TxnRecord | None: ...

    def txns_for_job(self, job_id: str) -> list[TxnRecord]: ...

    def refunds_of(self, txn_id: str) -> list[TxnRecord]: ...

    def transactions(self, username: str, since: dt.datetime | None = None,
                     limit: int | None = None) -> list[TxnRecord]:
        """Newest first (in the order central applied them)."""
        ...

    def all_transactions(self) -> Iterator[TxnRecord]: ...

    def record_auth_failure(self, keys: Sequence[str], at: float, window_s: float) -> None: ...

    def auth_failures(self, key: str, since: float) -> list[float]:
        """Times of failures for `key` at or after `since`, oldest first."""
        ...

    # settings of the site (time zone, fee switch, membership source), kept in the ledger

    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str | None) -> None: ...

    def settings(self) -> dict[str, str]: ...

    # groups and quotas

    def add_group(self, name: str, *, restricted: bool = True, credit_limit: int = 0
                  ) -> Group: ...

    def update_group(self, name: str, *, restricted: bool | None = None,
                     credit_limit: int | None = None, apply_to_members: bool = False
                     ) -> Group: ...

    def remove_group(self, name: str) -> None: ...

    def get_group(self, name: str) -> Group | None: ...

    def groups(self) -> list[Group]: ...

    def group_members(self, name: str) -> list[str]: ...

    def add_quota(self, quota: Quota) -> Quota: ...

    def remove_quota(self, name: str) -> None: ...

    def get_quota(self, name: str) -> Quota | None: ...

    def quotas(self) -> list[Quota]: ...

    # scheduled runs: a key is claimed once (primary key), as a lease that can be taken over

    def claim_run(self, key: str, kind: str, due_at: dt.datetime, owner: str,
                  at: dt.datetime, lease_s: float) -> ClaimResult: ...

    def renew_run(self, key: str, owner: str, at: dt.datetime, lease_s: float) -> None: ...

    def finish_run(self, key: str, owner: str,
                   report: str | Callable[[list[ApplyResult]], str],
                   postings: Sequence[Posting] = ()) -> list[ApplyResult]:
        """Postings and the run's end in ONE commit; StorageError if the lease was lost."""
        ...

    def get_run(self, key: str) -> Run | None: ...

    def runs(self, kind: str | None = None, limit: int = 50) -> list[Run]: ...

    # the fee run's intents: written before the membership system is asked

    def add_fee_intents(self, intents: Sequence[FeeIntent]) -> None: ...

    def post_fees(self, booked: Sequence[tuple[str, str, Posting]]) -> list[ApplyResult]:
        """(reference, fee id, zeroing posting) of booked fees: the postings and the
        intents' end in ONE commit."""
        ...

    def fee_intents(self, run_key: str | None = None, *, open_only: bool = False
                    ) -> list[FeeIntent]: ...

    # membership

    def member_links(self, source: str) -> dict[str, str]: ...

    def account_index(self) -> dict[str, tuple[str, int, tuple[str, ...]]]:
        """username → (display name, balance, groups) of every active account."""
        ...

    def negative_balances(self, source: str) -> list[tuple[str, int, str | None]]: ...

    def sync_accounts(self, change: AccountSync, source: str,
                      settings: dict[str, str] | None = None) -> None:
        """Every change of one membership sync, and the given settings, in ONE commit."""
        ...

    def close(self) -> None: ...
