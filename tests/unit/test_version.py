"""The version is written once, in pyproject.toml, and read from the package's metadata."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from agent.sync.link import VERSION as AGENT_STATUS_VERSION
from central.service import ServiceConfig
from contract.version import VERSION
from tests.helpers import BIN

ROOT = Path(__file__).resolve().parents[2]


def test_every_part_reports_the_version_pyproject_gives() -> None:
    written = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert VERSION == AGENT_STATUS_VERSION == ServiceConfig().version == written
    out = subprocess.run([str(BIN / "pagetally"), "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out == f"pagetally {written}\n"
