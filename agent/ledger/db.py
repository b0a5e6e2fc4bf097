"""Opening the ledger database the one safe way: WAL, synchronous=FULL, migrated.

Every connection to the ledger goes through `open_database`, so no code path can forget the
pragmas that make a commit survive a power cut on a Pi's SD card.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from agent.ledger.errors import SchemaError
from agent.ledger.migrations import migrate

BUSY_TIMEOUT_S = 5.0


def open_database(path: str | Path) -> sqlite_utils.Database:
    """A migrated ledger database on one connection usable from any one thread at a time."""
    where = str(path)
    if where != ":memory:":
        parent = Path(where).parent
        if not parent.is_dir():
            raise SchemaError(
                f"cannot open the ledger database {where}: folder {parent} is missing"
            )
    try:
        conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as exc:
        raise SchemaError(f"cannot open the ledger database {where}: {exc}") from exc
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        db.enable_wal()
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(conn, where)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise SchemaError(f"cannot use the ledger database {where}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return db


def pragma(db: sqlite_utils.Database, name: str) -> str:
    """The current value of a PRAGMA as text (for checks and diagnostics)."""
    row = db.execute(f"PRAGMA {name}").fetchone()
    return str(row[0])
