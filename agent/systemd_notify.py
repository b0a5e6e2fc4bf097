"""sd_notify for the agent: READY=1 once it serves, WATCHDOG=1 while its event loop runs.

The pings come from a task on the agent's own event loop, so a loop that hangs (a blocking
call, a deadlock) stops them and systemd's WatchdogSec restarts the agent. No libsystemd:
the protocol is one datagram to $NOTIFY_SOCKET (a path, or '@name' for the abstract
namespace). Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("pagetally.systemd")


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_s = _watchdog_interval(env)

    @property
    def active(self) -> bool:
        return bool(self.address)

    def send(self, state: str) -> None:
        """One datagram; a supervisor that went away is logged, never fatal."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.sendto(state.encode(), self.address)
        except OSError as exc:
            log.warning("cannot notify systemd (%s): %s", self.address, exc)

    def ready(self, status: str) -> None:
        self.send(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    async def watchdog(self) -> None:
        """Ping at half the interval systemd asked for, for as long as the loop turns."""
        if not self.address or self.watchdog_s is None:
            return
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_s / 2)


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """WATCHDOG_USEC in seconds, if the watchdog is meant for this process (WATCHDOG_PID)."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000
