"""The logged-in session at the device, ended by logout, by a new login, or by idle timeout.

A walk-up terminal must never stay logged in after its user walks away: every session has
an idle timer on the event loop, restarted by activity (`touch`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from agent.identity.directory import AuthResult

log = logging.getLogger("pagetally.identity.session")

Method = Literal["card", "code", "card+pin"]
EndReason = Literal["logout", "timeout", "replaced"]


@dataclass
class Session:
    user: str
    display_name: str
    balance: int  # integer minor units, as the directory reported at login
    method: Method
    offline: bool
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


class SessionManager:
    """At most one session per device, with an auto-logout timer."""

    def __init__(self, device: str, idle_timeout_s: float = 60.0,
                 on_end: Callable[[Session, EndReason], None] | None = None) -> None:
        if idle_timeout_s <= 0:
            raise ValueError("the idle timeout must be more than 0 seconds")
        self.device = device
        self.idle_timeout_s = idle_timeout_s
        self.on_end = on_end
        self.current: Session | None = None
        self._timer: asyncio.TimerHandle | None = None

    def start(self, result: AuthResult, method: Method) -> Session:
        if not result.ok or result.user is None:
            raise ValueError("a session starts only from a successful login")
        if self.current is not None:
            self.end("replaced")
        session = Session(result.user, result.display_name or result.user,
                          result.balance or 0, method, result.offline)
        self.current = session
        self._arm()
        log.info("%s logged in on %s by %s%s", session.user, self.device, method,
                 " (offline)" if session.offline else "")
        return session

    def touch(self) -> None:
        """Activity on the panel: restart the idle timer."""
        if self.current is not None:
            self._arm()

    def end(self, reason: EndReason = "logout") -> Session | None:
        session, self.current = self.current, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if session is not None:
            log.info("%s logged out on %s (%s)", session.user, self.device, reason)
            if self.on_end is not None:
                self.on_end(session, reason)
        return session

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.idle_timeout_s, self.end, "timeout")
