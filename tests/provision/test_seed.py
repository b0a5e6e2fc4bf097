"""Every generated seed checked by outside tools and the agent's own config loader:
`cloud-init schema` on user-data, the `rpi` key against cc_raspberry_pi's documented
schema, agent.toml through agent.config, and the files first boot writes."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from agent.config import config_from_dict
from provision.build import build
from tests.provision.rpi_schema import RPI_SCHEMA


@pytest.fixture
def seeds(site_dir: Path, tmp_path: Path) -> list[Path]:
    return build(site_dir / "site.toml", site_dir / "devices.toml", tmp_path / "out").seeds


def _user_data(seed: Path) -> dict:
    text = (seed / "user-data").read_text()
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def _written(seed: Path, path: str) -> dict:
    files = [f for f in _user_data(seed)["write_files"] if f["path"] == path]
    assert len(files) == 1, path
    return files[0]


def test_three_seeds_pass_cloud_init_schema(seeds: list[Path]) -> None:
    assert [s.name for s in seeds] == ["lib-gf-1", "lib-1f-1", "lib-2f-1"]
    for seed in seeds:
        done = subprocess.run(["cloud-init", "schema", "--config-file", str(seed / "user-data")],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Valid cloud-config" in done.stdout


def test_cloud_init_schema_can_fail(tmp_path: Path) -> None:
    """The check is real: a wrong type in a known module is refused by cloud-init 22.4."""
    bad = tmp_path / "user-data"
    bad.write_text("#cloud-config\npackages: 5\nntp: {enabled: maybe}\n")
    done = subprocess.run(["cloud-init", "schema", "--config-file", str(bad)],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "packages" in done.stdout + done.stderr


def test_rpi_key_matches_cc_raspberry_pi_schema(seeds: list[Path]) -> None:
    for seed in seeds:
        rpi = _user_data(seed)["rpi"]
        jsonschema.validate(rpi, RPI_SCHEMA)
        assert rpi["interfaces"]["serial"] == {"console": False, "hardware": True}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"interfaces": {"uart": True}}, RPI_SCHEMA)


def test_agent_toml_is_accepted_by_the_agent(seeds: list[Path]) -> None:
    for seed in seeds:
        text = _written(seed, "/etc/pagetally/agent.toml")["content"]
        config = config_from_dict(tomllib.loads(text), "agent.toml")
        assert config.device.id == seed.name
        assert config.device.site == "library"
        assert config.mqtt.username == seed.name
        assert config.mqtt.password_file == "/data/pagetally/mqtt.secret"
        assert config.ledger.path.startswith("/data/")
        assert config.prices.media["default"].mono_simplex == 10


def test_udev_rules_name_readers_and_board(seeds: list[Path]) -> None:
    gf, first, second = (_written(s, "/etc/udev/rules.d/70-pagetally.rules")["content"]
                         for s in seeds)
    assert ('SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", '
            'SYMLINK+="pagetally/rfid", GROUP="pagetally", MODE="0660"') in gf
    assert 'SUBSYSTEM=="input", KERNEL=="event*", ATTRS{idVendor}=="ffff"' in first
    assert 'KERNEL=="ttyAMA0", SYMLINK+="pagetally/copier"' in first
    assert 'ATTRS{idVendor}=="2e8a", ATTRS{idProduct}=="000a", SYMLINK+="pagetally/copier"' \
        in second
    assert "copier" not in gf.replace("copier board", "")


def test_secrets_are_root_only_and_token_is_unique(seeds: list[Path]) -> None:
    tokens = set()
    for seed in seeds:
        token = _written(seed, "/etc/pagetally/enrol.token")
        assert token["permissions"] == "0600"
        assert _written(seed, "/etc/pagetally/enrol.secret")["permissions"] == "0600"
        tokens.add(token["content"].strip())
        assert oct((seed / "user-data").stat().st_mode & 0o777) == "0o600"
    assert len(tokens) == 3
    assert all(len(t) >= 40 for t in tokens)


def test_tokens_file_holds_digests_only(seeds: list[Path]) -> None:
    records = (seeds[0].parent / "enrol-tokens.jsonl").read_text()
    for seed in seeds:
        plain = _written(seed, "/etc/pagetally/enrol.token")["content"].strip()
        assert plain not in records
        assert f'"device": "{seed.name}"' in records


def test_first_boot_sets_up_the_appliance(seeds: list[Path]) -> None:
    data = _user_data(seeds[0])
    assert data["timezone"] == "Europe/Berlin"
    assert data["ntp"]["servers"] == ["ptbtime1.ptb.de", "ptbtime2.ptb.de"]
    assert {"python3-venv", "overlayroot", "unattended-upgrades"} <= set(data["packages"])
    assert data["runcmd"][-1] == ["/usr/local/sbin/pagetally-firstboot"]
    assert data["power_state"]["mode"] == "reboot"
    journald = _written(seeds[0], "/etc/systemd/journald.conf.d/50-pagetally.conf")["content"]
    assert "RuntimeMaxUse=32M" in journald
    env = _written(seeds[0], "/etc/pagetally/firstboot.env")["content"]
    assert "APP_SOURCE=wheel\n" in env
    assert (seeds[0] / "pagetally" / "pagetally-0.1.0-py3-none-any.whl").is_file()


def test_network_config_and_meta_data(seeds: list[Path]) -> None:
    net = yaml.safe_load((seeds[0] / "network-config").read_text())
    assert net == {"network": {"version": 2, "ethernets": {
        "eth0": {"dhcp4": True, "dhcp6": True, "optional": False}}}}
    meta = yaml.safe_load((seeds[0] / "meta-data").read_text())
    assert meta["local-hostname"] == "pagetally-lib-gf-1"
    assert meta["instance-id"].startswith("pagetally-library-lib-gf-1-")


def test_wifi_network_config(site_dir: Path, tmp_path: Path) -> None:
    text = (site_dir / "site.toml").read_text().replace(
        '# wifi_ssid = "library-staff"\n# wifi_password_file = "wifi.secret"',
        'wifi_ssid = "library-staff"\nwifi_password_file = "wifi.secret"')
    (site_dir / "site.toml").write_text(text)
    (site_dir / "wifi.secret").write_text("correct horse\n")
    seed = build(site_dir / "site.toml", site_dir / "devices.toml", tmp_path / "o").seeds[0]
    wlan = yaml.safe_load((seed / "network-config").read_text())["network"]["wifis"]["wlan0"]
    assert wlan["access-points"] == {"library-staff": {"password": "correct horse"}}
    assert wlan["regulatory-domain"] == "DE"
