"""Versioned schema migrations for the local ledger.

Each migration runs in its own transaction together with the row that records it in
`schema_version`, so a power cut leaves the database at one version or the next, never in
between. A database written by a newer PageTally is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from agent.ledger.errors import SchemaError

Step = str | Callable[[sqlite3.Connection], None]
Migration = tuple[int, Step]


_V1 = """
CREATE TABLE jobs (
    job_key TEXT PRIMARY KEY,
    printer TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('device', 'cups')),
    queue_job_id INTEGER NOT NULL,
    user TEXT NOT NULL,
    name TEXT NOT NULL,
    impressions INTEGER NOT NULL CHECK (impressions >= 0),
    color INTEGER NOT NULL CHECK (color IN (0, 1)),
    duplex INTEGER NOT NULL CHECK (duplex IN (0, 1)),
    media TEXT,
    estimate INTEGER NOT NULL CHECK (estimate >= 0),
    state TEXT NOT NULL CHECK (state IN ('snapshotting', 'released', 'following',
                                         'settled', 'review', 'abandoned')),
    printed INTEGER CHECK (printed IS NULL OR printed >= 0),
    reason TEXT,
    review INTEGER NOT NULL DEFAULT 0 CHECK (review IN (0, 1)),
    review_note TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    settled_at TEXT
);
-- One hold-queue job can be in flight only once: a double tap cannot release it twice.
CREATE UNIQUE INDEX jobs_in_flight ON jobs (printer, source, queue_job_id)
    WHERE state IN ('snapshotting', 'released', 'following');
CREATE INDEX jobs_user ON jobs (user, created_at);
CREATE INDEX jobs_state ON jobs (state);

CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    job_key TEXT NOT NULL REFERENCES jobs (job_key),
    step TEXT NOT NULL CHECK (step IN ('snapshot', 'release', 'poll', 'final')),
    data TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX evidence_job ON evidence (job_key, id);

CREATE TABLE txns (
    txn_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    job_key TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund', 'extra', 'copy', 'adjustment')),
    type TEXT NOT NULL CHECK (type IN ('print', 'copy', 'refund', 'adjustment')),
    user TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    occurred_at TEXT NOT NULL,
    job_json TEXT NOT NULL DEFAULT '{}',
    outbox TEXT NOT NULL DEFAULT 'pending' CHECK (outbox IN ('pending', 'acked', 'rejected')),
    ack_status TEXT,
    ack_balance INTEGER,
    acked_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (job_key, kind)
);
CREATE INDEX txns_outbox ON txns (outbox, seq);
CREATE INDEX txns_user ON txns (user, seq);
"""

# Which device job a CUPS release printed as. A restarted agent must know its own device
# job, and must not take one an earlier release already claimed (the same document
# released twice): held in memory only, both were lost on restart.
_V2 = """
ALTER TABLE jobs ADD COLUMN device_job_id INTEGER;
ALTER TABLE jobs ADD COLUMN device_job_created TEXT;
ALTER TABLE jobs ADD COLUMN match_doubt TEXT;
CREATE INDEX jobs_device_job ON jobs (printer, device_job_id) WHERE device_job_id IS NOT NULL;
"""

# Metering sessions: a print job or a copy session, the thing each transaction refers to
# (a copy charge used to put its session's key in the txn's job_key). The txns table is
# rebuilt, as SQLite cannot rename a column inside a UNIQUE constraint.
_V3 = """
CREATE TABLE sessions (
    session_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('print', 'copy')),
    -- where the page count comes from: the device's job (IPP) and counters, the copier
    -- interface board's pulses, or the device's counters alone
    evidence TEXT NOT NULL CHECK (evidence IN ('ipp-job', 'board', 'counters')),
    printer TEXT NOT NULL,
    user TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO sessions (session_key, kind, evidence, printer, user, created_at)
    SELECT job_key, 'print', 'ipp-job', printer, user, created_at FROM jobs;
INSERT INTO sessions (session_key, kind, evidence, printer, user, created_at)
    SELECT job_key, 'copy', 'counters', COALESCE(json_extract(job_json, '$.printer'), ''),
           user, occurred_at
    FROM txns WHERE kind = 'copy' AND job_key IS NOT NULL;
CREATE TABLE txns_v3 (
    txn_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    session_key TEXT REFERENCES sessions (session_key),
    kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund', 'extra', 'copy', 'adjustment')),
    type TEXT NOT NULL CHECK (type IN ('print', 'copy', 'refund', 'adjustment')),
    user TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    occurred_at TEXT NOT NULL,
    job_json TEXT NOT NULL DEFAULT '{}',
    outbox TEXT NOT NULL DEFAULT 'pending' CHECK (outbox IN ('pending', 'acked', 'rejected')),
    ack_status TEXT,
    ack_balance INTEGER,
    acked_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session_key, kind)
);
INSERT INTO txns_v3 SELECT txn_id, seq, job_key, kind, type, user, amount, currency, reason,
    note, occurred_at, job_json, outbox, ack_status, ack_balance, acked_at, attempts FROM txns;
DROP TABLE txns;
ALTER TABLE txns_v3 RENAME TO txns;
CREATE INDEX txns_outbox ON txns (outbox, seq);
CREATE INDEX txns_user ON txns (user, seq);
CREATE INDEX sessions_user ON sessions (user, created_at);
"""

# A copy session is written when it starts, with the board's boot id and cumulative counters
# and the device's counters read before the relay went on, so an agent that dies mid-session
# settles it exactly once after restart from the board's counters (issue 12).
_V4 = """
CREATE TABLE copy_sessions (
    session_key TEXT PRIMARY KEY REFERENCES sessions (session_key),
    state TEXT NOT NULL CHECK (state IN ('open', 'settled', 'review')),
    board_boot INTEGER NOT NULL,
    start_json TEXT NOT NULL,
    result_json TEXT,
    started_at TEXT NOT NULL,
    settled_at TEXT
);
CREATE INDEX copy_sessions_open ON copy_sessions (state) WHERE state = 'open';
"""

# Central's requests to send txns again after its ledger was restored (contract v1.2): each
# is acted on once, though the broker hands the retained request over at every connect.
_V5 = """
CREATE TABLE resend_requests (
    request_id TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    txns INTEGER NOT NULL,
    handled_at TEXT NOT NULL
);
"""

MIGRATIONS: list[Migration] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
]


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return max((version for version, _ in migrations), default=0)


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database; 0 for an empty one."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(
    conn: sqlite3.Connection, where: str, migrations: Sequence[Migration] = MIGRATIONS
) -> int:
    """Bring the database up to the newest version; returns the version it ends at.

    `where` names the database in error messages (usually its path).
    """
    _check_order(migrations)
    newest = latest_version(migrations)
    found = current_version(conn)
    if found > newest:
        raise SchemaError(
            f"the ledger database {where} was written by a newer version of PageTally "
            f"(schema version {found}; this version understands up to {newest}). "
            "Install the newer PageTally again, or move this database aside to start afresh."
        )
    for version, step in migrations:
        if version <= found:
            continue
        _apply(conn, version, step, where)
        found = version
    return found


def _check_order(migrations: Sequence[Migration]) -> None:
    versions = [version for version, _ in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise SchemaError(f"migrations must have increasing versions from 1, got {versions}")


def _apply(conn: sqlite3.Connection, version: int, step: Step, where: str) -> None:
    """One migration and its schema_version row, in one IMMEDIATE transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        # Another process may have migrated while we waited for the write lock.
        if current_version(conn) >= version:
            conn.execute("COMMIT")
            return
        if isinstance(step, str):
            for statement in split_statements(step):
                conn.execute(statement)
        else:
            step(conn)
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (version, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise SchemaError(
            f"could not upgrade the ledger database {where} to schema version {version}: {exc}"
        ) from exc
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def split_statements(script: str) -> list[str]:
    """Split SQL text into complete statements (executescript would commit our transaction)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece
        if sqlite3.complete_statement(pending + ";"):
            if _has_sql(pending):
                statements.append(pending.strip() + ";")
            pending = ""
        else:
            pending += ";"  # the semicolon was inside a string or comment
    if _has_sql(pending):
        raise SchemaError(f"incomplete SQL statement in migration: {pending.strip()[:80]!r}")
    return statements


def _has_sql(text: str) -> bool:
    """True if the text holds something other than whitespace, semicolons and -- comments."""
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return any(line.strip(" \t;") for line in lines)
