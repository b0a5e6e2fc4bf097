"""Bring a ledger database to the schema this PageTally knows, one versioned script at a time.

SQLite counts versions in `PRAGMA user_version`, PostgreSQL in a one-row `schema_version`
table. Each script runs in one write transaction with its version bump, so a crash leaves
the database at the old version or the new one, never between; on PostgreSQL the writer
lock also keeps two instances starting at once from migrating twice.
"""

from __future__ import annotations

from central.storage import migrations_postgres, migrations_sqlite
from central.storage.base import StorageError
from central.storage.sqldb import SqlDb


def _version(db: SqlDb) -> int:
    if db.dialect == "sqlite":
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _set_version(db: SqlDb, number: int) -> None:
    if db.dialect == "sqlite":
        db.execute(f"PRAGMA user_version = {int(number)}")
    else:
        db.execute("DELETE FROM schema_version")
        db.execute("INSERT INTO schema_version VALUES (?)", (number,))


def migrate(db: SqlDb) -> None:
    scripts = (migrations_sqlite.MIGRATIONS if db.dialect == "sqlite"
               else migrations_postgres.MIGRATIONS)
    with db.transaction():
        version = _version(db)
    if version > len(scripts):
        raise StorageError(f"the database {db.name} is from a newer PageTally (schema"
                           f" {version}, this one knows {len(scripts)}); upgrade first")
    for number, script in enumerate(scripts[version:], start=version + 1):
        with db.transaction():
            if _version(db) >= number:  # another instance got here first
                continue
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            _set_version(db, number)
