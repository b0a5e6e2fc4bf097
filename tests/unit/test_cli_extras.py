"""A command whose optional part is not installed says which one, in plain words.

The install without the extra is made real by a child interpreter whose import system
refuses the package (a meta-path finder), so nothing is mocked inside the code under test.
"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

WITHOUT = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == {package!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Missing())
{code}
"""


def run_without(package: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT.format(package=package, code=code)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_simulator_without_pysnmp_names_the_extra() -> None:
    done = run_without("pysnmp", "from agent.cli import main; sys.exit(main(['sim']))")
    assert done.returncode == 1, done.stderr
    assert done.stderr == ("pagetally sim: this needs the optional part 'sim', which is not"
                           " installed here: pip install 'pagetally[sim]'\n")


def test_a_postgres_ledger_without_psycopg_names_the_extra() -> None:
    done = run_without("psycopg", "from central.cli import main; sys.exit(main(['show', 'x',"
                                  " '--db', 'postgresql://nobody@127.0.0.1:1/x',"
                                  " '--secret-file', '/dev/null']))")
    assert done.returncode == 1, done.stderr
    assert done.stderr == ("pagetally central: a postgresql:// ledger needs the optional part"
                           " 'postgres': pip install 'pagetally[postgres]'\n")
