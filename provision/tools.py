"""Outside programs the tool runs, found up front so a missing one is named before any work."""

from __future__ import annotations

import os
import shutil
import subprocess

from provision.errors import ProvisionError, ToolMissing

_PACKAGES = {"mcopy": "mtools", "mdir": "mtools", "mmd": "mtools", "mtype": "mtools"}


def need(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        debs = sorted({_PACKAGES.get(n, n) for n in missing})
        raise ToolMissing(f"{', '.join(missing)} not found: install {' '.join(debs)} "
                          f"(Debian/Ubuntu: sudo apt-get install {' '.join(debs)}; "
                          "macOS: brew install mtools)")


def run(args: list[str]) -> str:
    """Run a tool; its complaint becomes our error, in its own words plus what we did."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise ProvisionError(f"{args[0]} failed ({' '.join(args[1:3])} ...): "
                             f"{(done.stderr or done.stdout).strip()}")
    return done.stdout

