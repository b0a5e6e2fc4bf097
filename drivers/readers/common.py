"""Pieces both reader kinds share: repeat-read suppression and reopen-after-unplug."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("pagetally.readers")

#: Called with each card string a reader produces.
CardHandler = Callable[[str], Awaitable[None]]


class ReaderUnplugged(Exception):
    """The reader was open and went away (unplugged, port closed, end of stream)."""


def mask(card: str) -> str:
    """Card numbers identify people: logs show only the last four characters."""
    return "…" + card[-4:] if len(card) > 4 else "…"


class DuplicateFilter:
    """Drop the same card read again within `window_s`.

    RFID readers repeat the frame while the card stays in the field, and people swipe twice;
    every repeat extends the window so a card resting on the reader logs in only once.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: str | None = None
        self._last_t = 0.0

    def accept(self, card: str, now: float) -> bool:
        repeat = (card == self._last and self.window_s > 0
                  and 0.0 <= now - self._last_t < self.window_s)
        self._last, self._last_t = card, now
        return not repeat

    def reset(self) -> None:
        self._last = None


async def keep_open(name: str, session: Callable[[], Awaitable[None]], *,
                    first_delay_s: float = 0.1, max_delay_s: float = 10.0) -> None:
    """Run `session` forever, reopening with backoff after unplug or failed open.

    `session` raises OSError when the device cannot be opened and ReaderUnplugged when it
    went away after opening. A successful open resets the backoff.
    """
    delay = first_delay_s
    failures = 0
    while True:
        try:
            await session()
            raise ReaderUnplugged("the reader stream ended")
        except ReaderUnplugged as exc:
            log.warning("card reader %s went away (%s); reopening it", name, exc)
            delay, failures = first_delay_s, 0
        except OSError as exc:
            failures += 1
            level = logging.WARNING if failures == 1 else logging.DEBUG
            log.log(level, "cannot open card reader %s: %s; trying again in %.1f s "
                    "(attempt %d)", name, exc.strerror or exc, delay, failures)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay_s)
