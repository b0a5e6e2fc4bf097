"""Enrolment tokens in central's database, on both stores: single use (also when two
instances race for one token), expiry, digests only, importing, and the move from the SQLite
file of their own they had before. End to end over MQTT: tests/provision/test_enrol.py."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.enrol import EnrolRefused, PasswordFile, TokenFileError, digest
from central.enrol_service import Enroller
from central.storage.enrol_tokens import TokenRecord, TokenStore, parse_lines
from central.storage.sqldb import DatabaseUnavailable
from tests.central.conftest import Stores
from tests.helpers import BIN, free_port

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)
PAGETALLY = str(BIN / "pagetally")


def record(token: str, device: str = "d", expires: dt.datetime = LATER) -> TokenRecord:
    return TokenRecord(digest(token), "s", device, expires)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PAGETALLY, "central", "enrol", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_expiry_and_retry_with_same_hash(stores: Stores) -> None:
    store = TokenStore(stores.url())
    try:
        assert store.add([record("tok"), record("old", expires=NOW - dt.timedelta(seconds=1)),
                          record("other", device="e")]) == 3
        with pytest.raises(EnrolRefused, match="token expired at 2025-12-31T23:59:59"):
            store.redeem("old", "s", "d", "$7$h", NOW)
        with pytest.raises(EnrolRefused, match="unknown token"):
            store.redeem("made-up", "s", "d", "$7$h", NOW)
        with pytest.raises(EnrolRefused, match="belongs to another device"):
            store.redeem("other", "s", "d", "$7$h", NOW)
        store.redeem("tok", "s", "d", "$7$h1", NOW)
        store.redeem("tok", "s", "d", "$7$h1", NOW + dt.timedelta(minutes=1))  # answer lost
        with pytest.raises(EnrolRefused, match="already used at 2026-01-01T00:00:00"):
            store.redeem("tok", "s", "d", "$7$h2", NOW)
    finally:
        store.close()


def test_only_digests_are_stored(stores: Stores) -> None:
    store = TokenStore(stores.url())
    try:
        store.add([record("plain-secret-token")])
        store.redeem("plain-secret-token", "s", "d", "$7$h", NOW)
        rows = store.db.execute("SELECT * FROM enrolment_tokens").fetchall()
    finally:
        store.close()
    assert len(rows) == 1
    assert rows[0][0] == digest("plain-secret-token")
    assert not any("plain-secret-token" in str(value) for value in rows[0])


def test_importing_again_keeps_a_used_token_used(stores: Stores) -> None:
    url = stores.url()
    store = TokenStore(url)
    try:
        store.add([record("tok")])
        store.redeem("tok", "s", "d", "$7$h1", NOW)
        assert store.add([record("tok"), record("new")]) == 1
        with pytest.raises(EnrolRefused, match="already used"):
            store.redeem("tok", "s", "d", "$7$h2", NOW)
    finally:
        store.close()


def test_two_instances_racing_for_one_token_exactly_one_wins(stores: Stores) -> None:
    """Two connections (as two central instances) redeem each of 40 tokens at the same
    moment with different passwords: one wins each, the other is told it is used."""
    url = stores.url()
    tokens = [f"token-{n}" for n in range(40)]
    setup = TokenStore(url)
    setup.add([record(t) for t in tokens])
    start = threading.Barrier(2)
    won: dict[str, list[str]] = {t: [] for t in tokens}
    lost: dict[str, list[str]] = {t: [] for t in tokens}

    def instance(name: str) -> None:
        store = TokenStore(url)  # a connection of its own, made on its own thread
        try:
            for t in tokens:
                start.wait(timeout=30)
                try:
                    store.redeem(t, "s", "d", f"$7${name}", NOW)
                    won[t].append(name)
                except EnrolRefused as exc:
                    lost[t].append(str(exc))
        finally:
            store.close()

    threads = [threading.Thread(target=instance, args=(n,)) for n in ("a", "b")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    try:
        assert not any(th.is_alive() for th in threads)
        for t in tokens:
            assert len(won[t]) == 1, (t, won[t], lost[t])
            assert len(lost[t]) == 1 and lost[t][0].startswith("token already used at"), lost[t]
            stored = setup.db.execute("SELECT password_hash FROM enrolment_tokens"
                                      " WHERE sha256 = ?", (digest(t),)).fetchone()
            assert stored[0] == f"$7${won[t][0]}"
    finally:
        setup.close()


def test_cli_import_is_all_or_nothing(stores: Stores, tmp_path: Path) -> None:
    url = stores.url()
    good = json.dumps({"site": "s", "device": "d", "sha256": "a" * 64,
                       "expires": "2026-01-01T00:00:00+00:00"})
    f = tmp_path / "f.jsonl"
    f.write_text(good + "\n{\n")
    done = cli("import", str(f), "--db", url)
    assert done.returncode == 1
    assert done.stderr == (f"pagetally central enrol: {f} line 2: not a token record"
                           " (Expecting property name enclosed in double quotes:"
                           " line 1 column 2 (char 1))\n")
    store = TokenStore(url)
    try:
        assert store.db.execute("SELECT count(*) FROM enrolment_tokens").fetchone()[0] == 0
    finally:
        store.close()
    f.write_text(good + "\n")
    assert cli("import", str(f), "--db", url).stdout == f"imported 1 enrolment tokens from {f}\n"
    assert cli("import", str(f), "--db", url).stdout == (
        f"imported 0 enrolment tokens from {f}; 1 were already known\n")


def test_parse_lines_names_the_fault() -> None:
    def bad(line: str) -> str:
        with pytest.raises(TokenFileError) as caught:
            parse_lines(["", line], "f.jsonl")
        return str(caught.value)

    rec = {"site": "s", "device": "d", "sha256": "a" * 64, "expires": "2026-01-01T00:00:00"}
    assert bad(json.dumps(rec)) == "f.jsonl line 2: expires has no time zone"
    assert bad(json.dumps({**rec, "sha256": "A" * 64})) == (
        "f.jsonl line 2: sha256 is not 64 hex digits")
    assert bad(json.dumps({"site": "s"})).startswith("f.jsonl line 2: not a token record")


@given(st.lists(st.text(), max_size=5))
def test_any_text_is_a_token_file_or_a_plain_error(lines: list[str]) -> None:
    try:
        records = parse_lines(lines, "f.jsonl")
    except TokenFileError as exc:
        assert str(exc).startswith("f.jsonl line ")
    else:
        assert all(len(r.sha256) == 64 and r.expires.tzinfo is not None for r in records)


def _old_file(path: Path) -> None:
    """The SQLite file of its own enrolment kept before, as that version wrote it."""
    db = sqlite3.connect(path)
    db.execute("""CREATE TABLE enrol_tokens (
        sha256 TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL,
        expires TEXT NOT NULL, used_at TEXT, password_hash TEXT)""")
    db.executemany("INSERT INTO enrol_tokens VALUES (?, ?, ?, ?, ?, ?)", [
        (digest("used"), "s", "d", LATER.isoformat(), NOW.isoformat(), "$7$h1"),
        (digest("fresh"), "s", "e", LATER.isoformat(), None, None)])
    db.commit()
    db.close()


def test_old_tokens_file_moves_once_and_used_tokens_stay_used(stores: Stores,
                                                               tmp_path: Path) -> None:
    url = stores.url()
    old = tmp_path / "enrol.db"
    _old_file(old)
    done = cli("import-old", str(old), "--db", url)
    assert done.stdout == f"imported 2 enrolment tokens from {old} (1 of them already used)\n"
    store = TokenStore(url)
    try:
        store.redeem("used", "s", "d", "$7$h1", NOW)  # the device's own retry still works
        with pytest.raises(EnrolRefused, match="already used at 2026-01-01T00:00:00"):
            store.redeem("used", "s", "d", "$7$h2", NOW)
        store.redeem("fresh", "s", "e", "$7$h3", NOW)
    finally:
        store.close()


def test_cli_errors_in_plain_words(stores: Stores, tmp_path: Path) -> None:
    url = stores.url()
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello\n" * 100)
    done = cli("import-old", str(not_db), "--db", url)
    assert done.returncode == 1
    assert done.stderr == (f"pagetally central enrol: {not_db}: not an enrolment tokens file"
                           " (file is not a database)\n")
    done = cli("import-old", str(tmp_path / "gone.db"), "--db", url)
    assert done.stderr == f"pagetally central enrol: {tmp_path / 'gone.db'}: no such file\n"
    done = cli("import", "x.jsonl", "--tokens-db", str(tmp_path / "enrol.db"))
    assert done.returncode == 2
    assert "--tokens-db is gone: enrolment tokens now live in central's database" in done.stderr
    assert "pagetally central enrol import-old OLD_FILE --db URL" in done.stderr
    assert not (tmp_path / "enrol.db").exists()
    done = cli("serve", "--passwd-file", "p")
    assert done.returncode == 2
    assert "the following arguments are required: --db" in done.stderr


def test_no_database_no_answer(tmp_path: Path) -> None:
    """With the database out of reach the device gets no answer, so it tries again later;
    a refusal would stop it for good."""
    url = f"postgresql://pagetally@127.0.0.1:{free_port()}/none"
    enroller = Enroller(lambda: TokenStore(url), PasswordFile(tmp_path / "passwd"))
    request = json.dumps({"token": "tok", "password_hash": "$7$101$" + "A" * 16 + "$"
                          + "B" * 86 + "=="}).encode()
    with pytest.raises(DatabaseUnavailable):
        TokenStore(url)
    assert enroller.handle("s", "d", request) is None
    assert not (tmp_path / "passwd").exists()
