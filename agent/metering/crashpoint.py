"""Test hook: die by SIGKILL at a named metering step, to prove resume is exactly-once.

Set PAGETALLY_TEST_KILL_AT to a step name (snapshot, release, charge, follow, settle).
Unset in production; it costs one dict lookup per step.
"""

from __future__ import annotations

import os
import signal

ENV = "PAGETALLY_TEST_KILL_AT"


def crashpoint(step: str) -> None:
    if os.environ.get(ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
