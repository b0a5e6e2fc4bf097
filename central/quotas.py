"""A quota run: every member of the group gets the quota's adjustment, once per period.

The postings' ids are derived from the run key and the user, and they are written in the
same commit that marks the run done, so a run never posts twice, even if two central
instances race for it (the run key is a primary key) or one crashes half way.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from central.schedule import Due, Spec
from central.storage.records import Posting, Quota

POSTING_NAMESPACE = uuid.UUID("6f1f4c1e-3a4b-5c6d-8e9f-0a1b2c3d4e5f")
TRANSACTED_BY = "schedule"


def spec_of(quota: Quota) -> Spec:
    return Spec(quota.period, quota.at, quota.weekday, quota.monthday)


def run_key(quota: Quota, due: Due) -> str:
    return due.key(f"quota:{quota.name}")


def posting_id(key: str, username: str) -> str:
    return str(uuid.uuid5(POSTING_NAMESPACE, f"{key}\0{username}"))


def postings(quota: Quota, key: str, members: list[str], at: dt.datetime) -> list[Posting]:
    """One automatic adjustment per member: note = the quota's name, comment = its comment."""
    return [Posting(posting_id(key, user), user, quota.amount, "schedule", TRANSACTED_BY,
                    quota.name, quota.comment, mode=quota.mode, cap=quota.cap, occurred_at=at)
            for user in members]


def report(quota: Quota, due: Due, statuses: list[tuple[str, str, int]]) -> str:
    """The run's report: who got what (status, balance after)."""
    return json.dumps({
        "quota": quota.name, "group": quota.group, "mode": quota.mode, "amount": quota.amount,
        "cap": quota.cap, "day": due.day.isoformat(), "due_at": due.at.isoformat(),
        "applied": sum(1 for _, s, _ in statuses if s == "applied"),
        "unchanged": sum(1 for _, s, _ in statuses if s == "unchanged"),
        "users": [{"user": u, "status": s, "balance": b} for u, s, b in statuses],
    })
