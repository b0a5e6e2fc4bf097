"""PageTally's version, read once from the installed package's metadata.

pyproject.toml is the one place it is written; the agent's `status` topic, central's and
`pagetally --version` all read it from here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("pagetally")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


VERSION = package_version()
