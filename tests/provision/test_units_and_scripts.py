"""The systemd units checked by `systemd-analyze verify`, the shell scripts by shellcheck."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from provision.cloud import UNITS, template

VENV_BIN = "/opt/pagetally/venv/bin/pagetally"
SCRIPTS = ("pagetally-firstboot.sh", "pagetally-upgrade.sh")


def _verify(unit_dir: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    # Units outside the system folders: point the unit search path at ours (and keep the
    # system's, for network-online.target and friends).
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{unit_dir}:"}
    return subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *[str(unit_dir / n) for n in names]],
                          capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def unit_dir(tmp_path: Path) -> Path:
    """The units as written to the Pi, with ExecStart pointing at a real executable here
    (verify refuses a missing binary, and the Pi's venv is not on this machine)."""
    d = tmp_path / "units"
    d.mkdir()
    fake = tmp_path / "pagetally"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    for unit in UNITS:
        text = template(unit).replace(VENV_BIN, str(fake))
        text = text.replace("/usr/local/sbin/pagetally-upgrade", str(fake))
        (d / unit).write_text(text)
    return d


def test_units_verify(unit_dir: Path) -> None:
    done = _verify(unit_dir, list(UNITS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_verify_can_fail(unit_dir: Path) -> None:
    """The check is real: a misspelt directive in the agent's unit is reported."""
    unit = unit_dir / "pagetally-agent.service"
    unit.write_text(unit.read_text().replace("WatchdogSec=30", "WatchdogSecs=30"))
    done = _verify(unit_dir, ["pagetally-agent.service"])
    assert "Unknown key 'WatchdogSecs' in section [Service]" in done.stderr


def test_agent_unit_is_notify_with_watchdog_and_hardened() -> None:
    unit = template("pagetally-agent.service")
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure", "User=pagetally",
                 "ProtectSystem=strict", "NoNewPrivileges=yes", "ReadWritePaths=/data/pagetally",
                 "RequiresMountsFor=/data"):
        assert f"\n{line}\n" in unit, line


def test_panel_after_agent_on_kms() -> None:
    unit = template("pagetally-panel.service")
    assert "\nAfter=pagetally-agent.service " in unit
    assert "SDL_VIDEODRIVER=kmsdrm" in unit
    assert "User=pagetally-panel" in unit


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck(script: str, tmp_path: Path) -> None:
    path = tmp_path / script
    path.write_text(template(script))
    done = subprocess.run(["shellcheck", "--shell=sh", "--severity=style", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_shellcheck_can_fail(tmp_path: Path) -> None:
    path = tmp_path / "bad.sh"
    path.write_text("#!/bin/sh\nrm -rf $1/data\n")
    done = subprocess.run(["shellcheck", "--shell=sh", str(path)], capture_output=True,
                          text=True, check=False)
    assert "SC2086" in done.stdout
