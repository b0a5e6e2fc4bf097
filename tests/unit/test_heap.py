"""An argon2 check in the agent's worker thread leaves no 19 MiB resident behind it, once
the agent has fixed glibc's mmap threshold (as `agent.daemon.run` does first)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading
import argon2
from agent.heap import keep_large_allocations_out_of_the_heap
from agent.identity.accounts import LocalAccounts, hash_secret
assert keep_large_allocations_out_of_the_heap()

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
stored = hash_secret("918273", hasher)
accounts = LocalAccounts.__new__(LocalAccounts)
accounts._hasher = hasher
before = rss_mb()
worker = threading.Thread(target=accounts._matches, args=(stored, "918273"))
worker.start(); worker.join()
print(round(rss_mb() - before, 1))
"""


def test_a_login_check_gives_its_memory_back() -> None:
    grown = float(subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True,
                                 text=True, check=True).stdout)
    assert grown < 8.0, f"{grown} MB stayed resident after one argon2 check (its cost: 19)"
