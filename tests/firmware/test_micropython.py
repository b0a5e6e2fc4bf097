"""The shared codec and the firmware core under a real MicroPython (1.27, WebAssembly port).

`./dev test` installs Node.js and the MicroPython package (tests/firmware/micropython/);
mpy-cross (the MicroPython compiler) checks the board-only files that need `machine`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MP = Path(__file__).parent / "micropython"
SHARED = [ROOT / "firmware_bridge/protocol.py", ROOT / "firmware_bridge/firmware/core.py"]
BOARD_ONLY = [ROOT / "firmware_bridge/firmware/hal_rp2.py",
              ROOT / "firmware_bridge/firmware/main.py"]


def test_scenario_gives_identical_output_under_micropython_and_cpython() -> None:
    assert (MP / "node_modules").is_dir(), (
        "MicroPython for tests is missing: run `npm install` in tests/firmware/micropython "
        "(./dev test does)")
    mp = subprocess.run(["node", "run.mjs", "scenario.py", *map(str, SHARED)], cwd=MP,
                        capture_output=True, text=True, timeout=60, check=False)
    assert mp.returncode == 0, mp.stderr
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p.parent) for p in SHARED))
    cpy = subprocess.run([sys.executable, "scenario.py"], cwd=MP, env=env,
                         capture_output=True, text=True, timeout=60, check=True)
    lines = mp.stdout.splitlines()
    assert lines == cpy.stdout.splitlines()
    assert lines[0] == "crc 10673"  # 0x29B1
    assert "after pulses False 2 4" in lines  # limit of 2 pages reached, relay off


@pytest.mark.parametrize("path", SHARED + BOARD_ONLY, ids=lambda p: p.name)
def test_board_files_compile_with_mpy_cross(path: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "x.mpy"),
                          str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "x.mpy").stat().st_size > 0
