"""The sync rules, as pure functions: who is wanted, and what changes in the ledger.

Companies become groups and their members users in them; individual members go to
`[Individual Member]`. A member is the account whose username is their email (lower case),
or the account already linked to them. On the first sync into a ledger that has users,
accounts no member matches move to `UNLINKED_MEMBERS_TO_OFFICERND`, and accounts with a
negative balance are listed first, since the fee run would bill each of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from central.members.source import Directory, Member, MembershipError
from central.storage.records import AccountSync, MemberLink

INDIVIDUAL_GROUP = "[Individual Member]"
UNLINKED_GROUP = "UNLINKED_MEMBERS_TO_OFFICERND"


@dataclass(frozen=True)
class MemberFilter:
    """Who is synced ("member management"): each field, when set, is a list of accepted
    values; a member must pass every field that is set. Companies match by id or name."""

    statuses: tuple[str, ...] | None = ("active",)
    locations: tuple[str, ...] | None = None
    companies: tuple[str, ...] | None = None
    plans: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None

    def wants(self, member: Member, company_name: str | None) -> bool:
        def one_of(value: str | None, accepted: tuple[str, ...] | None) -> bool:
            return accepted is None or (value is not None and value in accepted)

        def any_of(values: Iterable[str], accepted: tuple[str, ...] | None) -> bool:
            return accepted is None or any(v in accepted for v in values)

        return (one_of(member.status, self.statuses)
                and one_of(member.location, self.locations)
                and any_of([v for v in (member.company, company_name) if v], self.companies)
                and any_of(member.plans, self.plans) and any_of(member.tags, self.tags))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> MemberFilter:
        if not text:
            return cls()
        raw = json.loads(text)
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise MembershipError(f"unknown member filter fields: {', '.join(sorted(unknown))}")
        return cls(**{k: tuple(v) if v is not None else None for k, v in raw.items()})


@dataclass(frozen=True, slots=True)
class AccountInfo:
    display_name: str
    balance: int
    groups: tuple[str, ...]


@dataclass
class LedgerView:
    """What the rules need to know of the ledger."""

    active: dict[str, AccountInfo]
    """Every active account by username."""
    links: dict[str, str] = field(default_factory=dict)
    """username → member id, for this source."""


@dataclass
class SyncPlan:
    change: AccountSync
    first: bool
    unlinked: list[str] = field(default_factory=list)
    negatives: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Members not synced, with the reason (a duplicate email, ...)."""
    kept: int = 0
    """Wanted members whose account already had the right name and groups."""

    def summary(self) -> dict[str, object]:
        c = self.change
        return {"first": self.first, "create": len(c.create), "update": len(c.regroup),
                "remove": len(c.remove), "unlinked": len(self.unlinked),
                "unchanged": self.kept, "skipped": self.skipped[:50],
                "negative_balances": [{"user": u, "balance": b} for u, b in self.negatives]}


def group_names(directory: Directory) -> dict[str, str]:
    """company id → group name; a name two companies share gets the id added."""
    counts: dict[str, int] = {}
    for c in directory.companies:
        counts[c.name] = counts.get(c.name, 0) + 1
    return {c.id: c.name if counts[c.name] == 1 else f"{c.name} ({c.id})"
            for c in directory.companies}


def plan(directory: Directory, wanted_by: MemberFilter, ledger: LedgerView, *, first: bool
         ) -> SyncPlan:
    """The changes that make the ledger match the source; accounts already right are left
    alone on a re-sync, and re-created (name and groups from the source) on the first."""
    names = group_names(directory)
    by_member = {mid: user for user, mid in ledger.links.items()}
    change = AccountSync(groups=sorted(set(names.values()) | {INDIVIDUAL_GROUP}))
    result = SyncPlan(change, first)
    matched: set[str] = set()
    for member in directory.members:
        username = by_member.get(member.id) or member.email.strip().lower()
        if not username:
            result.skipped.append(f"{member.id}: no email")
            continue
        if username in matched:
            result.skipped.append(f"{member.id}: {username} is already another member's")
            continue
        matched.add(username)
        company = names.get(member.company) if member.company else None
        account = ledger.active.get(username)
        exists = account is not None
        if not wanted_by.wants(member, company):
            if exists:
                change.remove.append(username)
            continue
        groups = [company or INDIVIDUAL_GROUP]
        name = member.name or member.email
        if account is None:
            change.create.append((username, name, groups))
        elif first or (account.display_name, account.groups) != (name, tuple(groups)):
            change.regroup.append((username, name, groups))
        else:
            result.kept += 1
        if ledger.links.get(username) != member.id:
            change.links.append(MemberLink(username, "", member.id))
        if first and account is not None and account.balance < 0:
            result.negatives.append((username, account.balance))
    source_ids = {m.id for m in directory.members}
    for username, member_id in ledger.links.items():
        if username in ledger.active and member_id not in source_ids:
            change.remove.append(username)  # the member is gone from the source
    if first:
        for username in sorted(set(ledger.active) - matched):
            result.unlinked.append(username)
            change.regroup.append((username, ledger.active[username].display_name,
                                   [UNLINKED_GROUP]))
        change.groups.append(UNLINKED_GROUP)
    return result
