"""Rate limits on guessing: per device and per secret, with doubling backoff.

A device may fail at most `per_window` times per `window_s`; successful logins do not
count, so a queue of people at a busy printer is never locked out. After `free_failures`
consecutive failures, the device and the failing secret each wait a doubling time
(`backoff_base_s`, twice that, ...), capped at `backoff_max_s`. A success clears its own
secret's count and the device's consecutive failures, but not the device's window of
failures: a guesser who also knows one good code cannot use it to earn more guesses.
Secrets are keyed by an HMAC with a key that lives only in memory, so the table never holds
a code, nor an unsalted hash of one that a 4-digit search would undo.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    allowed: bool
    wait_s: float = 0.0

    @property
    def message(self) -> str:
        seconds = max(1, math.ceil(self.wait_s))
        unit = "second" if seconds == 1 else "seconds"
        return f"Too many attempts. Try again in {seconds} {unit}."


@dataclass
class _Track:
    failed_at: deque[float] = field(default_factory=deque)
    """When each failure in the current window happened (device tracks only)."""
    failures: int = 0
    last_failure: float = 0.0


class RateLimiter:
    def __init__(self, *, per_window: int = 5, window_s: float = 60.0, free_failures: int = 3,
                 backoff_base_s: float = 2.0, backoff_max_s: float = 300.0,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self.free_failures = free_failures
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_keys = max_keys
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self._devices: dict[str, _Track] = {}
        self._keys: dict[str, _Track] = {}

    def key(self, secret: str) -> str:
        """An in-memory-keyed HMAC of a code or card: a counter key that reveals nothing."""
        return hmac.new(self._secret, secret.encode(), hashlib.sha256).hexdigest()

    def _backoff_until(self, track: _Track) -> float:
        over = track.failures - self.free_failures
        if over < 0:
            return 0.0
        delay = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** min(over, 60))
        return track.last_failure + delay

    def check(self, device: str, key: str) -> Decision:
        """May this device try this secret now? If not, how long until it may."""
        now = self.clock()
        waits = [0.0]
        dev = self._devices.get(device)
        if dev is not None:
            while dev.failed_at and dev.failed_at[0] <= now - self.window_s:
                dev.failed_at.popleft()
            if len(dev.failed_at) >= self.per_window:
                waits.append(dev.failed_at[0] + self.window_s - now)
            waits.append(self._backoff_until(dev) - now)
        track = self._keys.get(key)
        if track is not None:
            waits.append(self._backoff_until(track) - now)
        wait = max(waits)
        return Decision(wait <= 0, max(wait, 0.0))

    def record(self, device: str, key: str, ok: bool) -> None:
        """Count a try that reached the directory: only a failure uses up the window."""
        now = self.clock()
        dev = self._devices.setdefault(device, _Track())
        if ok:
            dev.failures = 0
            self._keys.pop(key, None)
            return
        dev.failed_at.append(now)
        dev.failures += 1
        dev.last_failure = now
        track = self._keys.setdefault(key, _Track())
        track.failures += 1
        track.last_failure = now
        if len(self._keys) > self.max_keys:
            self._prune(now)

    def _prune(self, now: float) -> None:
        """Drop keys whose backoff ran out; if still too many, drop the oldest."""
        for k in [k for k, t in self._keys.items() if self._backoff_until(t) <= now]:
            del self._keys[k]
        while len(self._keys) > self.max_keys:
            del self._keys[min(self._keys, key=lambda k: self._keys[k].last_failure)]
