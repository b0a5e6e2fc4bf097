"""LocalAccounts over a TOML file: lookups, argon2 checks, atomic card linking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import argon2
import pytest

from agent.identity.accounts import AccountsError, LocalAccounts, hash_secret

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def write_accounts(path: Path) -> Path:
    path.write_text(f"""# Front office accounts, edited by hand
[users.alice]
display_name = "Alice Example"
balance = 1250  # €12.50
access_code_hash = "{hash_secret('123456', FAST)}"
cards = ["00BC614E"]
pin_hash = "{hash_secret('4321', FAST)}"

[users.bob]
display_name = "Bob"
balance = -50
access_code_hash = "{hash_secret('654321', FAST)}"
""")
    path.chmod(0o600)
    return path


@pytest.fixture
def accounts(tmp_path: Path) -> LocalAccounts:
    return LocalAccounts(write_accounts(tmp_path / "accounts.toml"), FAST)


async def test_lookups(accounts: LocalAccounts) -> None:
    ok = await accounts.by_code("654321")
    assert (ok.ok, ok.user, ok.display_name, ok.balance, ok.offline) == \
        (True, "bob", "Bob", -50, False)
    bad = await accounts.by_code("000000")
    assert (bad.ok, bad.failure, bad.reason) == \
        (False, "bad-code", "This access code is not valid.")
    card = await accounts.by_card("00BC614E")
    assert (card.user, card.balance) == ("alice", 1250)
    assert (await accounts.by_card("FFFF")).failure == "unknown-card"
    assert (await accounts.by_card_and_pin("00BC614E", "4321")).user == "alice"
    wrong = await accounts.by_card_and_pin("00BC614E", "1111")
    assert (wrong.ok, wrong.failure) == (False, "bad-pin")


async def test_associate_card_rewrites_atomically_keeping_comments(
        accounts: LocalAccounts, tmp_path: Path) -> None:
    path = accounts.path
    before_inode = path.stat().st_ino
    result = await accounts.associate_card("654321", "DEADBEEF")
    assert (result.ok, result.user) == (True, "bob")
    text = path.read_text()
    assert "# Front office accounts, edited by hand" in text and "# €12.50" in text
    assert 'cards = ["DEADBEEF"]' in text
    assert "654321" not in text
    assert path.stat().st_ino != before_inode  # replaced by rename, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["accounts.toml"]  # no temp file left behind
    assert (await accounts.by_card("DEADBEEF")).user == "bob"
    # a second card goes into the existing list
    assert (await accounts.associate_card("123456", "CAFE0001")).user == "alice"
    assert (await LocalAccounts(path, FAST).by_card("CAFE0001")).user == "alice"


async def test_associate_refusals(accounts: LocalAccounts) -> None:
    taken = await accounts.associate_card("654321", "00BC614E")
    assert (taken.ok, taken.failure) == (False, "card-taken")
    assert (await accounts.associate_card("999999", "ABCD")).failure == "bad-code"
    again = await accounts.associate_card("123456", "00BC614E")  # already hers: fine
    assert (again.ok, again.user) == (True, "alice")


async def test_reloads_on_change_and_keeps_last_good(accounts: LocalAccounts,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    path = accounts.path
    path.write_text(path.read_text().replace("balance = -50", "balance = 700"))
    assert (await accounts.by_code("654321")).balance == 700
    path.write_text("this is [not toml")
    assert (await accounts.by_code("654321")).balance == 700
    assert "is not valid TOML" in caplog.text and "still using the previous copy" in caplog.text


@pytest.mark.parametrize(("text", "words"), [
    ('[users.a]\ndisplay_name = "A"\nbalance = 1.5\n', "Expected `int`, got `float`"),
    ('[users.a]\ndisplay_name = "A"\naccess_code_hash = "plain1234"\n',
     "users.a.access_code_hash is not an argon2 hash"),
    ('[users.a]\ndisplay_name = "A"\ncards = ["1"]\n[users.b]\ndisplay_name = "B"\n'
     'cards = ["1"]\n', "is listed for both a and b"),
    ('[users.a]\ndisplay_name = "A"\ncolour = "red"\n', "unknown field `colour`"),
])
def test_bad_files_explained(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "a.toml"
    path.write_text(text)
    with pytest.raises(AccountsError, match=words):
        LocalAccounts(path, FAST)


def test_missing_file_explained(tmp_path: Path) -> None:
    with pytest.raises(AccountsError, match=r"cannot read accounts file .*No such file"):
        LocalAccounts(tmp_path / "nope.toml")


def test_credit_rules_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[users.a]\nbalance = 100\ncredit_limit = 500\n'
                    '[users.b]\ndisplay_name = "B"\nrestricted = false\nbalance = -20\n')
    accounts = LocalAccounts(path, FAST)
    a, b = accounts.credit("a"), accounts.credit("b")
    assert (a.balance, a.restricted, a.credit_limit, a.available) == (100, True, 500, 600)
    assert (b.balance, b.restricted, b.available) == (-20, False, None)
    assert accounts.credit("nobody").available == 0
    path.write_text('[users.a]\ncredit_limit = -1\n')
    with pytest.raises(AccountsError, match=r"users\.a\.credit_limit must be 0 or more, got -1"):
        LocalAccounts(path, FAST)


async def test_display_name_defaults_to_user_id(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[users.zed]\ncards = ["C1"]\n')
    assert (await LocalAccounts(path, FAST).by_card("C1")).display_name == "zed"
