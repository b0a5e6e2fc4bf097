"""agent.toml and the accounts file: typed defaults, and errors that name file and key."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import argon2
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import ConfigError, config_from_dict, load_config
from agent.config_models import AgentConfig
from agent.pricing import MediaPrices
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "config.md").read_text()
MINIMAL = """
[device]
id = "pi-1"
site = "lab"

[printer]
ipp_uri = "ipp://127.0.0.1:8631/ipp/print"

[mqtt]
host = "127.0.0.1"
"""
# Cheap argon2 parameters: the check is about the format, not the cost.
HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def write(tmp_path: Path, text: str, name: str = "agent.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message  # every error names the file first
    return message.removeprefix(f"{path}: ")


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.device.display_name == "pi-1" and config.device.currency == "EUR"
    assert (config.printer.snmp_host, config.printer.snmp_port) == ("127.0.0.1", 161)
    assert config.printer.hold_source == "device"
    assert config.prices.free
    assert config.prices.cost(10, color=True, duplex=False, media="a4") == 0
    assert config.ledger.path == "/var/lib/pagetally/ledger.db"
    assert (config.metering.poll_interval_s, config.metering.idle_polls) == (0.2, 3)
    assert (config.mqtt.port, config.mqtt.client_id) == (1883, "pagetally-pi-1")
    assert not config.standalone
    assert config.panel.theme == {} and config.identity.code_min_length == 4
    assert config.readers == [] and config.metering.status_interval_s == 2.0


def test_documented_example_loads_with_exact_prices(tmp_path: Path) -> None:
    example = DOC.split("## Example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    config = load_config(write(tmp_path, example))
    table = config.prices
    assert table.cost(10, color=False, duplex=False, media="iso_a4_210x297mm") == 100
    assert table.cost(10, color=False, duplex=True, media="a4") == 80
    assert table.cost(10, color=True, duplex=True, media="letter") == 350
    assert table.cost(10, color=True, duplex=False, media="a3") == 800
    assert table.cost(10, color=False, duplex=True, media="a3") == 200
    assert config.identity.offline_credit == 200
    assert (config.mqtt.port, config.mqtt.tls) == (8883, True)
    assert config.printer.snmp_host == "10.0.20.15"
    assert config.printer.hold_uri == "ipp://localhost:631/printers/hold-lib-gf"
    assert config.identity.session_timeout_s == 45.0
    assert [r["name"] for r in config.readers] == ["front-rfid"]
    assert config.identity.offline_cache == "/var/lib/pagetally/offline-cache.json"


def test_every_key_is_documented() -> None:
    assert "## [[readers]]" in DOC
    for section in msgspec.structs.fields(AgentConfig):
        if section.name == "readers":
            continue  # documented with the reader drivers, docs/readers.md
        heading = f"## [{section.name}]"
        assert heading in DOC, f"docs/config.md lacks {heading}"
        body = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
        for field in msgspec.structs.fields(section.type):
            assert f"| `{field.name}` |" in body, f"[{section.name}] {field.name} is undocumented"
    for nested in (MediaPrices,):
        for field in msgspec.structs.fields(nested):
            assert f"| `{field.name}` |" in DOC, f"{nested.__name__}.{field.name} is undocumented"


def test_relative_files_resolve_against_config_folder(tmp_path: Path) -> None:
    text = MINIMAL + '[ledger]\npath = "data/ledger.db"\n[api]\nsocket = "/run/x.sock"\n'
    config = load_config(write(tmp_path, text))
    assert config.ledger.path == str(tmp_path.resolve() / "data" / "ledger.db")
    assert config.api.socket == "/run/x.sock"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[printer]\nipp_uri = "ipp://p/ipp"\nsnmp_port = "abc"',
         "[printer] snmp_port: expected an integer, got 'abc'"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\nsnmp_port = 70000',
         "[printer] snmp_port: must be <= 65535, got 70000"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\nsnmp_prot = 1',
         "[printer] unknown key 'snmp_prot' (did you mean 'snmp_port'?)"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\nhold_source = "usb"',
         "[printer] hold_source: expected one of 'device', 'cups', got 'usb'"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\nhold_source = "cups"',
         "[printer] hold_uri is required when hold_source is 'cups'"),
        ('[printer]\nipp_uri = "lpd://p"', "[printer] ipp_uri must look like"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\ntls_fingerprint = "' + "ab" * 32 + '"',
         "[printer] tls_fingerprint pins the certificate of an ipps:// printer, but ipp_uri "
         "is 'ipp://p/ipp'"),
        ('[printer]\nipp_uri = "ipps://p/ipp"\ntls_fingerprint = "sha1:AB:CD"',
         "[printer] tls_fingerprint: a certificate fingerprint must be SHA-256: 64 hex "
         "digits, colons allowed, optionally after 'sha256:'; got 'sha1:AB:CD'"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[pinter]\nx = 1',
         "unknown section [pinter] (did you mean [printer]?)"),
        ('[printer]\nsnmp_port = 161', "[printer] ipp_uri is required"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[metering]\nidle_polls = 0',
         "[metering] idle_polls: must be >= 1, got 0"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[metering]\npoll_interval_s = true',
         "[metering] poll_interval_s: expected a number, got true"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[panel]\nhidden = ["copy", 3]',
         "[panel.hidden] item 2: expected text in quotes, got 3"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[mqtt]\nhost = "m"\ncert_file = "c"',
         "[mqtt] cert_file and key_file go together"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[identity]\ncode_min_length = 8\ncode_max_length = 6',
         "[identity] code_max_length must not be less than code_min_length"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[[readers]]\nname = "r"\nkind = "usb"\npath = "x"',
         "[[readers]] #1 kind: expected one of 'serial', 'evdev', 'evdev-fifo', got 'usb'"),
        ('[printer]\nipp_uri = "ipp://p/ipp"\n[[readers]]\nname = "r"\nkind = "serial"\n'
         'path = "x"\nconversions = ["rot13"]',
         "[[readers]] reader 'r': unknown conversion step 'rot13'"),
    ],
)  # fmt: skip
def test_wrong_values_name_section_and_key(tmp_path: Path, extra: str, expected: str) -> None:
    text = '[device]\nid = "pi-1"\nsite = "lab"\n[accounts]\nfile = "a.toml"\n' + extra
    assert error_for(tmp_path, text).startswith(expected)


@pytest.mark.parametrize(
    ("copier", "expected"),
    [
        ('tracking = "count"',
         "[copier] tracking must be 'board', 'counters' or 'off', got 'count'"),
        ('tracking = "board"', "[copier] tracking = 'board' needs board_port"),
        ('board_port = "/dev/ttyACM0"\ntracking = "counters"',
         "[copier] tracking = 'counters' is for a device with no copier board, but "
         "board_port is set: remove one of them"),
        ("tracking = true", "[copier] tracking: expected text in quotes, got true"),
    ],
)  # fmt: skip
def test_bad_copy_tracking_is_refused(tmp_path: Path, copier: str, expected: str) -> None:
    assert error_for(tmp_path, MINIMAL + "[copier]\n" + copier).startswith(expected)


def test_copy_tracking_defaults_follow_the_board(tmp_path: Path) -> None:
    """A board means copies through it; no board means none, unless counters are asked."""
    assert load_config(write(tmp_path, MINIMAL)).copier.tracking == "off"
    board = MINIMAL + '[copier]\nboard_port = "/dev/ttyACM0"\n'
    assert load_config(write(tmp_path, board)).copier.tracking == "board"
    counted = MINIMAL + '[copier]\ntracking = "counters"\n'
    assert load_config(write(tmp_path, counted)).copier.tracking == "counters"


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ('[prices.media.default]\nmono_simplex = "-0.10"',
         "[prices.media.default] mono_simplex must not be negative"),
        ("[prices]\njob_fee = -0.05", "[prices] job_fee must not be negative"),
        ('[prices.media.default]\nmono_simplex = "0.105"',
         "[prices.media.default] mono_simplex: EUR amounts have at most 2 decimals, got '0.105'"),
        ("[prices.media.default]\ncolor_duplex = 0.333",
         "[prices.media.default] color_duplex: EUR amounts have at most 2 decimals, got 0.333"),
        ('[prices.media.default]\nmono_simplex = "1,20"',
         "[prices.media.default] mono_simplex: use a dot for decimals"),
        ('[prices.media.a4]\nmono_simplex = "0.10"', "[prices] media needs a 'default' entry"),
        ('[prices.media.default]\nmono = "0.10"', "[prices.media.default] unknown key 'mono'"),
        ('[prices]\nfee = 1', "[prices] unknown key 'fee' (did you mean 'job_fee'?)"),
        ('[prices]\nmedia = 3', "[prices] media: expected a table, got 3"),
    ],
)  # fmt: skip
def test_bad_prices_are_refused(tmp_path: Path, prices: str, expected: str) -> None:
    assert error_for(tmp_path, MINIMAL + prices).startswith(expected)


def test_prices_follow_currency_decimals(tmp_path: Path) -> None:
    text = MINIMAL.replace('site = "lab"', 'site = "lab"\ncurrency = "JPY"')
    config = load_config(write(tmp_path, text + "[prices.media.default]\nmono_simplex = 10"))
    assert config.prices.cost(3, color=False, duplex=False, media=None) == 30
    message = error_for(tmp_path, text + '[prices.media.default]\nmono_simplex = "0.5"')
    assert message == (
        "[prices.media.default] mono_simplex: JPY amounts have at most 0 decimals, got '0.5'"
    )


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    assert "not valid TOML: " in error_for(tmp_path, "[device\nid = 1")
    assert "(at line 1, column 8)" in error_for(tmp_path, "[device\nid = 1")
    path = tmp_path / "agent.toml"
    path.write_bytes(b'[device]\nid = "\xff"\n')
    with pytest.raises(ConfigError, match=r"agent\.toml: not UTF-8 text \(bad byte at position 15"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"missing.toml: cannot read the file: No such file"):
        load_config(tmp_path / "missing.toml")


def test_nobody_could_log_in_without_central_or_accounts(tmp_path: Path) -> None:
    text = MINIMAL.replace('[mqtt]\nhost = "127.0.0.1"', "")
    assert error_for(tmp_path, text).startswith("nobody could log in")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_give_config_or_config_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agent.toml"
        path.write_bytes(content)
        try:
            load_config(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))


KEYS = st.sampled_from(
    ["device", "printer", "prices", "media", "default", "a4", "mono_simplex", "job_fee",
     "id", "site", "ipp_uri", "snmp_port", "hidden", "metering", "idle_polls", "mqtt",
     "host", "panel", "theme", "identity", "offline_credit", "currency", "users", "zz",
     "readers", "name", "kind", "path", "conversions", "serial"]
)  # fmt: skip
SCALARS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=8),
    st.booleans(),
    st.sampled_from(["ipp://h/p", "EUR", "0.10", "pi-1", "dark"]),
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, TREES, max_size=5))
def test_any_structure_gives_config_or_plain_error(data: dict[str, object]) -> None:
    try:
        config_from_dict(data, "fuzz.toml")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml: ")
        assert "$." not in message and "Traceback" not in message
        assert not re.search(r"Expected `", message)
