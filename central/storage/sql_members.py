"""Which account is which member, and a membership sync applied in one transaction."""

from __future__ import annotations

from central.storage.records import AccountSync
from central.storage.sql_base import SqlBase, iso, now


class MembersMixin(SqlBase):
    def member_links(self, source: str) -> dict[str, str]:
        """username → member id, for one source."""
        return dict(self._db.execute(
            "SELECT username, member_id FROM member_links WHERE source = ?", (source,)))

    def account_index(self) -> dict[str, tuple[str, int, tuple[str, ...]]]:
        """username → (display name, balance, groups) of every active account, in 2 queries."""
        groups: dict[str, list[str]] = {}
        for user, group in self._db.execute(
                "SELECT username, group_name FROM account_groups ORDER BY 1, 2"):
            groups.setdefault(user, []).append(group)
        return {u: (n, b, tuple(groups.get(u, ()))) for u, n, b in self._db.execute(
            "SELECT username, display_name, balance FROM accounts WHERE removed_at IS NULL")}

    def negative_balances(self, source: str) -> list[tuple[str, int, str | None]]:
        """(username, balance, member id or None) of every active account below zero."""
        return list(self._db.execute(
            "SELECT a.username, a.balance, l.member_id FROM accounts a LEFT JOIN member_links l"
            " ON l.username = a.username AND l.source = ?"
            " WHERE a.balance < 0 AND a.removed_at IS NULL ORDER BY a.username", (source,)))

    def sync_accounts(self, change: AccountSync, source: str,
                      settings: dict[str, str] | None = None) -> None:
        """Create, regroup, remove and link accounts (and write `settings`) in ONE commit.

        A created account starts with the limits of its first group; an account that was
        removed and is wanted again comes back with its balance and history.
        """
        stamp = iso(now())
        db = self._db
        with self._tx():
            db.executemany("INSERT INTO groups (name, created_at) VALUES (?, ?)"
                             " ON CONFLICT DO NOTHING",
                           [(g, stamp) for g in change.groups])
            defaults = {name: (r, c) for name, r, c in db.execute(
                "SELECT name, restricted, credit_limit FROM groups")}
            rows = []
            for username, name, groups in change.create:
                restricted, limit = defaults.get(groups[0], (1, 0)) if groups else (1, 0)
                rows.append((username, name, restricted, limit, stamp))
            db.executemany(
                "INSERT INTO accounts (username, display_name, restricted, credit_limit,"
                " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET"
                " removed_at = NULL, display_name = excluded.display_name,"
                " restricted = excluded.restricted, credit_limit = excluded.credit_limit", rows)
            for username, name, _ in change.regroup:
                db.execute("UPDATE accounts SET display_name = ? WHERE username = ?",
                           (name, username))
            touched = change.create + change.regroup
            db.executemany("DELETE FROM account_groups WHERE username = ?",
                           [(u,) for u, _, _ in touched])
            db.executemany("INSERT INTO groups (name, created_at) VALUES (?, ?)"
                             " ON CONFLICT DO NOTHING",
                           {(g, stamp) for _, _, gs in touched for g in gs})
            db.executemany("INSERT INTO account_groups VALUES (?, ?) ON CONFLICT DO NOTHING",
                           [(u, g) for u, _, gs in touched for g in gs])
            db.executemany("UPDATE accounts SET removed_at = ? WHERE username = ?",
                           [(stamp, u) for u in change.remove])
            db.executemany("DELETE FROM member_links WHERE username = ?",
                           [(u,) for u in change.unlink + change.remove])
            db.executemany("DELETE FROM member_links WHERE source = ? AND member_id = ?",
                           [(source, link.member_id) for link in change.links])
            db.executemany("INSERT INTO member_links VALUES (?, ?, ?) ON CONFLICT (username)"
                           " DO UPDATE SET source = excluded.source,"
                           " member_id = excluded.member_id",
                           [(link.username, source, link.member_id) for link in change.links])
            db.executemany("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                           " SET value = excluded.value",
                           [(f"setting.{k}", v) for k, v in (settings or {}).items()])
