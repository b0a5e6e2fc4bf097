"""deploy/central/: a systemd unit systemd accepts, hardened, and whose command really runs."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, ROOT, spawn
from tests.mosquitto import CENTRAL_USER, Mosquitto, password_of

DEPLOY = ROOT / "deploy" / "central"
UNIT = DEPLOY / "pagetally-central.service"
SYSUSERS = DEPLOY / "pagetally-central.sysusers.conf"
INSTALLED = "/opt/pagetally/venv/bin/pagetally"  # where the appliance installs PageTally
STATE = "/var/lib/pagetally-central"


def _systemd(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} is missing: `./dev test` installs Debian's systemd package")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def _settings(text: str) -> dict[str, list[str]]:
    """key -> values of a unit file, backslash continuations joined (enough for our unit)."""
    settings: dict[str, list[str]] = {}
    for line in text.replace("\\\n", " ").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _with_real_binary(tmp_path: Path) -> Path:
    """The unit as shipped, but with ExecStart on this checkout's .venv/bin/pagetally.

    `systemd-analyze verify` checks that the ExecStart binary exists and is executable. The
    shipped unit names the appliance's path, absent on a test machine, so verify on it can
    only report that; the copy (same name, everything else byte for byte) is what systemd
    gets to check in full."""
    copy = tmp_path / UNIT.name
    text = UNIT.read_text()
    assert text.count(INSTALLED) == 1
    copy.write_text(text.replace(INSTALLED, str(BIN / "pagetally")))
    return copy


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    shipped = _systemd("systemd-analyze", "verify", "--man=no", str(UNIT))
    complaints = [line for line in (shipped.stdout + shipped.stderr).splitlines() if line]
    assert complaints and all(INSTALLED in line for line in complaints), complaints

    # verify exits 0 even for an unknown key or a value it cannot parse (it only warns and
    # ignores the line), so the test is that it has nothing at all to say
    checked = _systemd("systemd-analyze", "verify", "--man=no", str(_with_real_binary(tmp_path)))
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_unit_is_hardened_and_restarts_on_failure(tmp_path: Path) -> None:
    settings = _settings(UNIT.read_text())
    assert settings["Restart"] == ["on-failure"]
    assert settings["RestartSec"] == ["5s"]
    assert settings["User"] == ["pagetally-central"]
    assert settings["NoNewPrivileges"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["StateDirectory"] == ["pagetally-central"]
    assert f"--db {STATE}/ledger.db" in settings["ExecStart"][0]
    # systemd's own score of the sandbox: 0 (locked down) .. 10 (exposed); fail above 2.5
    security = _systemd("systemd-analyze", "security", "--offline=yes", "--threshold=25",
                        "--no-pager", str(_with_real_binary(tmp_path)))
    assert security.returncode == 0, security.stdout[-2000:] + security.stderr
    # the user it runs as is created by the sysusers file shipped next to it
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    users = _systemd("systemd-sysusers", "--dry-run", f"--root={root}", str(SYSUSERS))
    assert users.returncode == 0, users.stderr
    assert "Creating user 'pagetally-central'" in users.stderr + users.stdout


def test_unit_command_serves_and_a_sigterm_is_a_clean_exit(tmp_path: Path,
                                                           broker: Mosquitto) -> None:
    """ExecStart, run as systemd would (paths moved into tmp), reaches READY; SIGTERM, which
    is how systemd stops it, exits 0, so Restart=on-failure does not restart a stop."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "mqtt-password").write_text(password_of(CENTRAL_USER))
    state = tmp_path / "state"
    state.mkdir()
    line = _settings(UNIT.read_text())["ExecStart"][0]
    line = (line.replace(INSTALLED, str(BIN / "pagetally")).replace("%d", str(creds))
            .replace(STATE, str(state)).replace("--mqtt-port 1883", f"--mqtt-port {broker.port}"))
    child = spawn(shlex.split(line))
    try:
        child.wait_line("READY ")
        assert (state / "ledger.db").exists()
        child.proc.terminate()
        assert child.proc.wait(timeout=10) == 0, child.output()
    finally:
        child.stop()
