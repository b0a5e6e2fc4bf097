"""Groups (with the limits new members start with) and the quotas that top them up."""

from __future__ import annotations

from central.storage.base import StorageError
from central.storage.records import Group, Quota
from central.storage.sql_base import SqlBase, iso, now, parse_iso

_QUOTA_COLUMNS = ("name, group_name, period, amount, mode, at, weekday, monthday, cap,"
                  " comment, created_at")


class GroupsMixin(SqlBase):
    def add_group(self, name: str, *, restricted: bool = True, credit_limit: int = 0) -> Group:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM groups WHERE name = ?", (name,)).fetchone():
                raise StorageError(f"group {name!r} already exists")
            db.execute("INSERT INTO groups VALUES (?, ?, ?, ?)",
                       (name, restricted, credit_limit, iso(now())))
        return self._require_group(name)

    def update_group(self, name: str, *, restricted: bool | None = None,
                     credit_limit: int | None = None, apply_to_members: bool = False) -> Group:
        """Change a group's defaults; `apply_to_members` also sets them on its users now."""
        self._require_group(name)
        with self._tx() as db:
            for column, value in (("restricted", restricted), ("credit_limit", credit_limit)):
                if value is None:
                    continue
                db.execute(f"UPDATE groups SET {column} = ? WHERE name = ?", (value, name))
                if apply_to_members:
                    db.execute(f"UPDATE accounts SET {column} = ? WHERE username IN"
                               " (SELECT username FROM account_groups WHERE group_name = ?)",
                               (value, name))
        return self._require_group(name)

    def remove_group(self, name: str) -> None:
        """The group, its memberships and its quotas go; the users and their money stay."""
        self._require_group(name)
        with self._tx() as db:
            db.execute("DELETE FROM account_groups WHERE group_name = ?", (name,))
            db.execute("DELETE FROM groups WHERE name = ?", (name,))

    def _require_group(self, name: str) -> Group:
        group = self.get_group(name)
        if group is None:
            raise StorageError(f"there is no group {name!r}")
        return group

    def get_group(self, name: str) -> Group | None:
        found = [g for g in self.groups() if g.name == name]
        return found[0] if found else None

    def groups(self) -> list[Group]:
        rows = self._db.execute(
            "SELECT g.name, g.restricted, g.credit_limit, COUNT(a.username) FROM groups g"
            " LEFT JOIN account_groups ag ON ag.group_name = g.name"
            " LEFT JOIN accounts a ON a.username = ag.username AND a.removed_at IS NULL"
            " GROUP BY g.name ORDER BY g.name")
        return [Group(r[0], bool(r[1]), r[2], r[3]) for r in rows]

    def group_members(self, name: str) -> list[str]:
        return [u for (u,) in self._db.execute(
            "SELECT ag.username FROM account_groups ag JOIN accounts a USING (username)"
            " WHERE ag.group_name = ? AND a.removed_at IS NULL ORDER BY 1", (name,))]

    def add_quota(self, quota: Quota) -> Quota:
        self._require_group(quota.group)
        with self._tx() as db:
            if db.execute("SELECT 1 FROM quotas WHERE name = ?", (quota.name,)).fetchone():
                raise StorageError(f"quota {quota.name!r} already exists")
            db.execute(f"INSERT INTO quotas ({_QUOTA_COLUMNS}) VALUES"
                       " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (quota.name, quota.group, quota.period, quota.amount, quota.mode,
                        quota.at, quota.weekday, quota.monthday, quota.cap, quota.comment,
                        iso(quota.created_at or now())))
        found = self.get_quota(quota.name)
        assert found is not None
        return found

    def remove_quota(self, name: str) -> None:
        with self._tx() as db:
            if db.execute("DELETE FROM quotas WHERE name = ?", (name,)).rowcount == 0:
                raise StorageError(f"there is no quota {name!r}")

    def get_quota(self, name: str) -> Quota | None:
        found = [q for q in self.quotas() if q.name == name]
        return found[0] if found else None

    def quotas(self) -> list[Quota]:
        rows = self._db.execute(f"SELECT {_QUOTA_COLUMNS} FROM quotas ORDER BY name")
        return [Quota(name=r[0], group=r[1], period=r[2], amount=r[3], mode=r[4], at=r[5],
                      weekday=r[6], monthday=r[7], cap=r[8], comment=r[9],
                      created_at=parse_iso(r[10])) for r in rows]
