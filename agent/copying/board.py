"""The agent's hold on the copier board: connected, identified and configured for this boot.

The board forgets its channel setup when it boots, and refuses a CONFIGURE while its relay
is on (a session of an agent that died a moment ago), so readiness is checked before each
session and after every reconnect, not once at start.
"""

from __future__ import annotations

import asyncio
import logging

from agent.config_models import CopierConfig
from firmware_bridge.host import BoardError, BoardLink, BoardReset
from firmware_bridge.messages import ChannelConfig, PageKind, Status

log = logging.getLogger("pagetally.copy")

PAGE_KINDS = {"mono": PageKind.MONO, "colour": PageKind.COLOUR,
              "mono_large": PageKind.MONO_LARGE, "colour_large": PageKind.COLOUR_LARGE}


class CopyBoard:
    def __init__(self, config: CopierConfig, prices: dict[str, int]) -> None:
        self.config = config
        self.link = BoardLink(config.board_port)
        self.kinds = {c.channel: c.kind for c in config.channels}
        self._channels = [ChannelConfig(channel=c.channel, pin=c.pin, kind=PAGE_KINDS[c.kind],
                                        pulses_per_page=c.pulses_per_page,
                                        min_pulse_ms=c.min_pulse_ms,
                                        weight=max(1, prices[c.kind]),
                                        active_low=c.active_low)
                          for c in config.channels]
        self._configured: int | None = None  # boot id the channels were set for
        self._opened = False

    @property
    def boot_id(self) -> int | None:
        return None if self.link.identity is None else self.link.identity.boot_id

    async def connect(self, retry_s: float = 1.0) -> None:
        """Open the port, retrying until the board answers (it may be plugged in later)."""
        while not self._opened:
            try:
                ident = await self.link.open()
            except BoardError as exc:
                log.warning("copier board not ready: %s", exc)
                await asyncio.sleep(retry_s)
                continue
            self._opened = True
            log.info("copier board at %s: firmware %s, boot %08x", self.config.board_port,
                     ident.firmware_text, ident.boot_id)

    async def ready(self) -> Status:
        """Identified and configured for the board's current boot, relay off: its STATUS."""
        if self.link.identity is None:
            try:
                await self.link.identify()
            except BoardReset:
                pass  # a new boot: configured below
        status = await self.link.read()
        if status.relay:  # left on by an agent that died within its lease
            status = await self.link.disable()
        if self._configured != status.boot_id:
            for channel in self._channels:
                status = await self.link.configure(channel)
            self._configured = status.boot_id
        self.drain()
        return status

    def drain(self) -> None:
        """Forget queued link events: a new session reads from a fresh STATUS."""
        while not self.link.events.empty():
            self.link.events.get_nowait()

    async def close(self) -> None:
        await self.link.close()
