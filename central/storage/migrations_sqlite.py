"""The SQLite schema, one script per version (`PRAGMA user_version` counts them).

A change here is made in `migrations_postgres` too; a test compares the two schemas."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (
        username TEXT PRIMARY KEY, display_name TEXT NOT NULL,
        balance INTEGER NOT NULL DEFAULT 0, restricted INTEGER NOT NULL DEFAULT 1,
        credit_limit INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
    CREATE TABLE account_groups (
        username TEXT NOT NULL REFERENCES accounts ON DELETE CASCADE,
        group_name TEXT NOT NULL, PRIMARY KEY (username, group_name));
    CREATE TABLE access_codes (
        username TEXT PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
        lookup_tag TEXT NOT NULL UNIQUE, code_hash TEXT NOT NULL, set_at TEXT NOT NULL);
    CREATE TABLE cards (
        card_number TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES accounts ON DELETE CASCADE, added_at TEXT NOT NULL);
    CREATE TABLE transactions (
        txn_id TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES accounts,
        type TEXT NOT NULL CHECK (type IN ('print', 'copy', 'refund', 'adjustment')),
        amount INTEGER NOT NULL, balance_after INTEGER NOT NULL, currency TEXT NOT NULL,
        transacted_by TEXT NOT NULL, system_note TEXT NOT NULL, comment TEXT NOT NULL,
        occurred_at TEXT NOT NULL, applied_at TEXT NOT NULL, site TEXT NOT NULL,
        device TEXT NOT NULL, job_id TEXT, job_json TEXT, refund_of TEXT);
    CREATE INDEX transactions_user ON transactions (username, occurred_at);
    CREATE INDEX transactions_job ON transactions (job_id) WHERE job_id IS NOT NULL;
    CREATE INDEX transactions_refund ON transactions (refund_of) WHERE refund_of IS NOT NULL;
    CREATE TABLE rejected_txns (
        id INTEGER PRIMARY KEY, txn_id TEXT, site TEXT NOT NULL, device TEXT NOT NULL,
        reason TEXT NOT NULL, payload BLOB NOT NULL, at TEXT NOT NULL);
    CREATE TABLE auth_failures (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX auth_failures_key ON auth_failures (key, at);
    """,

    # 2: postings with their origin, groups, quotas, scheduled runs, fee intents, members.
    """
    ALTER TABLE transactions ADD COLUMN origin TEXT NOT NULL DEFAULT 'device';
    UPDATE transactions SET origin = CASE WHEN type = 'refund' THEN 'refund' ELSE 'admin' END,
        site = '', device = '' WHERE site = 'central' AND device = 'admin';
    ALTER TABLE accounts ADD COLUMN removed_at TEXT;
    CREATE TABLE groups (
        name TEXT PRIMARY KEY, restricted INTEGER NOT NULL DEFAULT 1,
        credit_limit INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
    INSERT OR IGNORE INTO groups (name, created_at)
        SELECT DISTINCT group_name, strftime('%Y-%m-%dT%H:%M:%fZ') FROM account_groups;
    CREATE TABLE quotas (
        name TEXT PRIMARY KEY, group_name TEXT NOT NULL REFERENCES groups ON DELETE CASCADE,
        period TEXT NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly')),
        amount INTEGER NOT NULL, mode TEXT NOT NULL CHECK (mode IN ('add', 'reset')),
        at TEXT NOT NULL, weekday INTEGER NOT NULL, monthday INTEGER NOT NULL, cap INTEGER,
        comment TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE runs (
        key TEXT PRIMARY KEY, kind TEXT NOT NULL, due_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'done')), owner TEXT NOT NULL,
        lease_until TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
        report TEXT NOT NULL DEFAULT '');
    CREATE INDEX runs_kind ON runs (kind, due_at);
    CREATE TABLE fee_intents (
        reference TEXT PRIMARY KEY, run_key TEXT NOT NULL,
        username TEXT NOT NULL REFERENCES accounts, member_id TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        state TEXT NOT NULL CHECK (state IN ('intent', 'posted')), fee_id TEXT,
        updated_at TEXT NOT NULL);
    CREATE INDEX fee_intents_open ON fee_intents (state) WHERE state != 'posted';
    CREATE TABLE member_links (
        username TEXT PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
        source TEXT NOT NULL, member_id TEXT NOT NULL, UNIQUE (source, member_id));
    """,
    # 3: a PIN for card + PIN sign-in (an argon2 hash of a keyed digest, like codes).
    """
    ALTER TABLE accounts ADD COLUMN pin_hash TEXT;
    """,
    # 4: device enrolment tokens (SHA-256 only), shared by every instance on this database;
    # they were a SQLite file of their own before (central/storage/enrol_tokens.py).
    """
    CREATE TABLE enrolment_tokens (
        sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64), site TEXT NOT NULL,
        device TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, password_hash TEXT,
        CHECK ((used_at IS NULL) = (password_hash IS NULL)));
    """,
)
