"""Printer profiles: shipped TOML files, inheritance, and plain-words errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.snmp.profiles import ProfileError, available_profiles, load_profile


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_shipped_profiles_load() -> None:
    assert {"generic", "pagetally-sim"} <= set(available_profiles())
    generic = load_profile("generic")
    assert generic.name == "generic"
    assert generic.life_count_oid == "1.3.6.1.2.1.43.10.2.1.4.1.1"
    assert generic.oid("life_count_oid") == (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1)
    assert (generic.counter_unit, generic.counter_bits, generic.saves_every) == (
        "impressions", 32, 1)
    sim = load_profile("pagetally-sim")
    assert sim.name == "pagetally-sim"
    assert sim.description == "PageTally simulated MFD"
    assert sim.alert_entry_oid == generic.alert_entry_oid  # inherited


def test_file_profile_extends_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "old-laser.toml",
                 'extends = "pagetally-sim"\nsaves_every = 10\ncounter_bits = 64\n')
    profile = load_profile(path)
    assert profile.name == "old-laser"
    assert (profile.saves_every, profile.counter_bits) == (10, 64)
    assert profile.description == ""  # descriptions are not inherited
    assert profile.life_count_oid == load_profile("generic").life_count_oid


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ProfileError) as err:
        load_profile("hp-unicorn")
    assert str(err.value).startswith("no printer profile named 'hp-unicorn'; available: ")
    assert "generic" in str(err.value) and "pagetally-sim" in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ('extends = "generic"\nsaves_evry = 10\n', "unknown setting 'saves_evry'"),
    ('extends = "generic"\nsaves_every = "ten"\n', "'saves_every' must be a whole number"),
    ('extends = "generic"\nsaves_every = 0\n', "'saves_every' must be at least 1, got 0"),
    ('extends = "generic"\ncounter_bits = 16\n', "'counter_bits' must be 32 or 64, got 16"),
    ('extends = "generic"\nlife_count_oid = "prtMarkerLifeCount"\n',
     "'life_count_oid' must be a dotted OID"),
    ('extends = "generic"\ncounter_unit = "pages"\n', "'counter_unit' must be one of"),
    ('extends = "generic"\nidle_polls = true\n', "'idle_polls' must be a whole number"),
    ('saves_every = 10\n', "missing settings: alert_entry_oid, bulk_rows, console_oid"),
    ('extends = "generic"\nsaves_every = [\n', "is not valid TOML"),
    ('extends = "nope"\n', "no printer profile named 'nope'"),
])
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert message in str(err.value)
    if "no printer profile" not in message:
        assert f"profile file {path}" in str(err.value)


def test_missing_file_and_circular_extends(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"cannot read profile file .*absent\.toml: "
                                           r"No such file"):
        load_profile(str(tmp_path / "absent.toml"))
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text(f'extends = "{b}"\n')
    b.write_text(f'extends = "{a}"\n')
    with pytest.raises(ProfileError, match="'extends' goes round in a circle"):
        load_profile(str(a))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'description = "caf\xe9"\n')
    with pytest.raises(ProfileError, match="is not UTF-8 text"):
        load_profile(str(path))
