"""Panel settings: where they come from, what a site may hide, and refusing bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.config import ConfigError, load_config
from ui.theme import Metrics, hex_colour, parse_size


def test_agent_config_then_panel_file_then_flag(tmp_path: Path) -> None:
    agent = tmp_path / "agent.toml"
    agent.write_text('[api]\nsocket = "/x/agent.sock"\n[printer]\nipp_uri = "ipp://p"\n'
                     '[panel]\nportal_url = "https://portal"\nhidden = ["account.transactions"]\n')
    panel = tmp_path / "panel.toml"
    panel.write_text('[panel]\nhidden = ["account.transactions.comment"]\n'
                     '[panel.theme]\naccent = "#ff0000"\n')
    config = load_config(agent, panel)
    assert config.socket == "/x/agent.sock"
    assert config.panel.portal_url == "https://portal"
    assert config.is_hidden("account.transactions.comment")
    assert not config.is_hidden("account.transactions.amount_text")
    assert config.colours().accent == (1.0, 0.0, 0.0, 1.0)
    assert load_config(agent, None, socket="/y.sock").socket == "/y.sock"
    assert load_config(agent).is_hidden("account.transactions.date")  # the parent hides all


@pytest.mark.parametrize(("text", "needle"), [
    ('[panel]\nhidden = ["account.secrets"]\n', "unknown part"),
    ('[panel]\nhidden = "account"\n', "not valid"),
    ('[panel.theme]\naccent = "red"\n', "#rrggbb"),
    ('[panel.theme]\naccnet = "#ffffff"\n', "unknown theme colour"),
    ("[panel\n", "not valid TOML"),
])
def test_bad_settings_are_refused_in_plain_words(tmp_path: Path, text: str,
                                                 needle: str) -> None:
    path = tmp_path / "panel.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_config(None, path)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_load_or_are_refused_with_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                          data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "panel.toml"
    path.write_bytes(data)
    try:
        load_config(None, path)
    except ConfigError as exc:
        assert str(exc)


def test_every_size_keeps_touch_targets_at_least_48_px() -> None:
    for size in ("800x480", "1024x600", "1280x720"):
        m = Metrics.for_size(*parse_size(size))
        assert min(m.button_h, m.key_h, m.row_h, m.button_h * 0.85) >= 48
    assert hex_colour("#00ff0080") == (0.0, 1.0, 0.0, 128 / 255)
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_size("big")
