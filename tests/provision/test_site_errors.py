"""A bad site file or device list gets one plain sentence naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provision.errors import ProvisionError
from provision.site import load_devices, load_site


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("port = 8883", 'port = "8883"', "site.toml: [broker] port: expected an integer, got text"),
    ("port = 8883", "port = 70000", "site.toml: [broker] port: expected an integer <= 65535"),
    ('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlinn"',
     "[site] timezone: unknown time zone 'Europe/Berlinn'"),
    ('locale = "de_DE.UTF-8"', 'locale = "german"', "[site] locale: expected e.g."),
    ("[panel]\nrotation = 0", "[panel]\nrotation = 45", "[panel] rotation: "),
    ('host = "mqtt.library.example"\n', "", "[broker]: missing required key 'host'"),
    ('id = "library"', 'id = "my library"', "[site] id: expected 1-64 letters, digits"),
    ("[enrol]", "[enrol]\ntoken_ttl = 3", "[enrol]: unknown key 'token_ttl'"),
    ('wheel = "pagetally-0.1.0-py3-none-any.whl"', 'wheel = ""', "[app] wheel: required"),
])
def test_bad_site_file_names_key(site_dir: Path, old: str, new: str, expected: str) -> None:
    _edit(site_dir / "site.toml", old, new)
    with pytest.raises(ProvisionError) as err:
        load_site(site_dir / "site.toml")
    assert expected in str(err.value)
    assert str(site_dir / "site.toml") in str(err.value)


def test_site_file_not_toml(site_dir: Path) -> None:
    (site_dir / "site.toml").write_text("[site\nid = 1\n")
    with pytest.raises(ProvisionError, match=r"site.toml: not valid TOML: .*line 1"):
        load_site(site_dir / "site.toml")


def test_missing_site_file(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match=r"nothere\.toml: no such file"):
        load_site(tmp_path / "nothere.toml")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('printer = "ipp://10.0.20.16/ipp/print"', 'printer = "10.0.20.16"',
     "device #2 printer: expected an address like 'ipp://"),
    ('id = "lib-2f-1"', 'id = "lib-gf-1"', "device #3 id: 'lib-gf-1' is used twice"),
    ('usb_vendor = "0403"', 'usb_vendor = "403"', "device #1 readers #1 usb_vendor"),
    ('kind = "serial"', 'kind = "bluetooth"',
     "device #1 readers #1 kind: not an allowed value: 'bluetooth'"),
    ('copier_board = { port = "usb", usb_vendor = "2e8a", usb_product = "000a" }',
     'copier_board = { port = "usb" }', "device #3 copier_board: port = \"usb\" needs"),
])
def test_bad_device_list_names_device_and_key(site_dir: Path, old: str, new: str,
                                              expected: str) -> None:
    _edit(site_dir / "devices.toml", old, new)
    with pytest.raises(ProvisionError) as err:
        load_devices(site_dir / "devices.toml")
    assert expected in str(err.value)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_give_a_plain_error_or_a_site(site_dir: Path, data: bytes) -> None:
    """Whatever the file holds: a Site, or a ProvisionError; never a traceback."""
    path = site_dir / "fuzz.toml"
    path.write_bytes(data)
    for load in (load_site, load_devices):
        try:
            load(path)
        except ProvisionError as exc:
            assert str(path) in str(exc)
