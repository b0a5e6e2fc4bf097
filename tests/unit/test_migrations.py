"""Ledger schema migrations: from empty, step by step, atomic, and never onto a newer file."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.ledger import Ledger, SchemaError
from agent.ledger.db import open_database
from agent.ledger.migrations import (
    MIGRATIONS,
    current_version,
    latest_version,
    migrate,
    split_statements,
)

V1 = "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT); -- first table\n"


def add_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE a ADD COLUMN note TEXT DEFAULT 'none'")
    conn.execute("UPDATE a SET note = 'was ' || name")


def tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def test_empty_database_gets_latest_schema(tmp_path: Path) -> None:
    db = open_database(tmp_path / "l.db")
    assert current_version(db.conn) == latest_version() == MIGRATIONS[-1][0]
    assert {"jobs", "evidence", "txns", "schema_version"} <= tables(db.conn)
    txn_columns = {row[1] for row in db.execute("PRAGMA table_info(txns)")}
    assert {"txn_id", "seq", "outbox", "ack_balance", "attempts", "job_json"} <= txn_columns
    db.conn.close()


def test_reopening_applies_nothing_again(tmp_path: Path) -> None:
    for _ in range(3):
        Ledger(tmp_path / "l.db", device="d", site="s").close()
    conn = sqlite3.connect(tmp_path / "l.db")
    assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_newer_database_is_refused_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    Ledger(path, device="d", site="s").close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError) as caught:
        Ledger(path, device="d", site="s")
    message = str(caught.value)
    assert str(path) in message
    assert "newer version of PageTally" in message
    assert f"schema version 99; this version understands up to {latest_version()}" in message


def test_steps_apply_in_order_and_keep_data(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db")
    assert migrate(conn, "t.db", [(1, V1)]) == 1
    conn.execute("INSERT INTO a (name) VALUES ('x')")
    conn.commit()
    assert migrate(conn, "t.db", [(1, V1), (2, add_column)]) == 2
    assert conn.execute("SELECT name, note FROM a").fetchall() == [("x", "was x")]
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [1, 2]
    conn.close()


def test_failed_step_rolls_back_whole_migration(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db")
    migrate(conn, "t.db", [(1, V1)])
    broken = "CREATE TABLE b (id INTEGER); INSERT INTO nowhere VALUES (1);"
    with pytest.raises(SchemaError, match="to schema version 2: no such table: nowhere"):
        migrate(conn, "t.db", [(1, V1), (2, broken)])
    assert current_version(conn) == 1
    assert "b" not in tables(conn)
    assert not conn.in_transaction
    conn.close()


def test_failed_callable_step_rolls_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db")
    migrate(conn, "t.db", [(1, V1)])

    def half_then_fail(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE c (id INTEGER)")
        raise RuntimeError("step bug")

    with pytest.raises(RuntimeError, match="step bug"):
        migrate(conn, "t.db", [(1, V1), (2, half_then_fail)])
    assert current_version(conn) == 1 and "c" not in tables(conn)
    conn.close()


def test_badly_ordered_migration_list_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db")
    with pytest.raises(SchemaError, match="increasing versions"):
        migrate(conn, "t.db", [(2, V1), (1, V1)])
    with pytest.raises(SchemaError, match="increasing versions"):
        migrate(conn, "t.db", [(1, V1), (1, V1)])
    assert current_version(conn) == 0
    conn.close()


def test_split_statements_handles_comments_and_semicolons_in_text() -> None:
    script = "-- lead\nCREATE TABLE x (a TEXT DEFAULT ';');\n\n-- tail only\n"
    assert split_statements(script) == ["-- lead\nCREATE TABLE x (a TEXT DEFAULT ';');"]
    assert split_statements("SELECT 1; SELECT 2") == ["SELECT 1;", "SELECT 2;"]
    with pytest.raises(SchemaError, match="incomplete SQL"):
        split_statements("INSERT INTO y VALUES ('no end; quote)")


def test_missing_folder_is_a_plain_error(tmp_path: Path) -> None:
    where = tmp_path / "no" / "such" / "l.db"
    with pytest.raises(SchemaError, match=r"folder .* is missing"):
        Ledger(where, device="d", site="s")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=4096))
def test_garbage_file_is_refused_in_plain_words(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "l.db"
        path.write_bytes(content)
        try:
            ledger = Ledger(path, device="d", site="s")
        except SchemaError as exc:
            assert str(path) in str(exc)
        else:  # a few byte strings are a valid (empty) database to SQLite
            assert ledger.txns() == []
            ledger.close()


def test_sqlite_header_with_garbage_body_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(SchemaError, match="cannot use the ledger database"):
        Ledger(path, device="d", site="s")


def test_a_version_1_ledger_upgrades_with_its_jobs(tmp_path: Path) -> None:
    """An agent updated mid-job: the v1 row resumes with no device job matched yet."""
    conn = sqlite3.connect(tmp_path / "l.db")
    migrate(conn, "l.db", MIGRATIONS[:1])
    conn.execute("INSERT INTO jobs (job_key, printer, source, queue_job_id, user, name,"
                 " impressions, color, duplex, estimate, state, created_at, updated_at)"
                 " VALUES ('k', 'p', 'cups', 4, 'alice', 'a.pdf', 2, 0, 0, 20, 'following',"
                 " 't', 't')")
    conn.commit()
    conn.close()
    with Ledger(tmp_path / "l.db", device="d", site="s") as ledger:
        [row] = ledger.unfinished()
        assert (row.job_key, row.device_job_id, row.match_doubt) == ("k", None, None)
        assert ledger.match_device_job("k", 9, None).device_job_id == 9


def test_version_2_txns_come_to_refer_to_sessions(tmp_path: Path) -> None:
    """Migration 3: each print job and copy charge becomes a session its txns refer to."""
    conn = sqlite3.connect(tmp_path / "l.db")
    migrate(conn, "l.db", MIGRATIONS[:2])
    conn.execute("INSERT INTO jobs (job_key, printer, source, queue_job_id, user, name,"
                 " impressions, color, duplex, estimate, state, created_at, updated_at)"
                 " VALUES ('j1', 'p', 'device', 4, 'alice', 'a.pdf', 2, 0, 0, 20, 'following',"
                 " 't1', 't1')")
    for seq, (key, kind, user, job) in enumerate([
            ("j1", "charge", "alice", "{}"), ("c1", "copy", "bob", '{"printer": "p"}'),
            (None, "adjustment", "bob", "{}")], start=1):
        conn.execute("INSERT INTO txns (txn_id, seq, job_key, kind, type, user, amount,"
                     " currency, occurred_at, job_json) VALUES (?, ?, ?, ?, ?, ?, -5, 'EUR',"
                     " 't2', ?)", (f"t{seq}", seq, key, kind,
                                   "adjustment" if kind == "adjustment" else
                                   "copy" if kind == "copy" else "print", user, job))
    conn.commit()
    conn.close()
    with Ledger(tmp_path / "l.db", device="d", site="s") as ledger:
        assert [(t.txn_id, t.session_key) for t in ledger.txns()] == [
            ("t1", "j1"), ("t2", "c1"), ("t3", None)]
        sessions = ledger.db.execute(
            "SELECT session_key, kind, evidence, printer, user FROM sessions"
            " ORDER BY session_key").fetchall()
        assert sessions == [("c1", "copy", "counters", "p", "bob"),
                            ("j1", "print", "ipp-job", "p", "alice")]
        ledger.mark_released("j1", {})  # the old job goes on, its charge already there
        assert [t.kind for t in ledger.txns(session_key="j1")] == ["charge"]
