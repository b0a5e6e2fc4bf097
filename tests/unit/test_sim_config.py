"""Simulator settings from TOML and flags, with errors that say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.config import ConfigError, load_config


def test_file_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text("[sim]\nppm = 45\nhold_all = true\nseed = 7\n")
    config = load_config(path, {"ppm": 90.0, "seed": None})
    assert (config.ppm, config.hold_all, config.seed, config.host) == (90.0, True, 7,
                                                                       "127.0.0.1")


def test_defaults_bind_loopback() -> None:
    config = load_config(None, {})
    assert (config.host, config.http_port, config.snmp_port) == ("127.0.0.1", 8631, 1161)


@pytest.mark.parametrize(("text", "expected"), [
    ("[sim]\nppm = 0\n", "ppm must be greater than 0"),
    ("[sim]\nspeed = 3\n", "unknown field `speed`"),
    ("[sim]\nhttp_port = 70000\n", "http_port must be a port number"),
    ("[sim]\nppm = 'fast'\n", "Expected `float`, got `str`"),
    ("[sim\n", "is not valid TOML"),
    ("[sim]\ncopier_without_board = 'yes'\n",
     "Expected `bool`, got `str` - at `$.copier_without_board`"),
])
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "sim.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert expected in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*nope\.toml"):
        load_config(tmp_path / "nope.toml", {})


def test_a_copier_without_board_is_config_off_by_default(tmp_path: Path) -> None:
    """The fault a site with no copier board is: off unless the file or flag says so."""
    assert load_config(None, {}).copier_without_board is False
    path = tmp_path / "sim.toml"
    path.write_text("[sim]\ncopier_without_board = true\n")
    assert load_config(path, {}).copier_without_board is True
    assert load_config(None, {"copier_without_board": True}).copier_without_board is True
