"""The host driver against a hand-driven peer on a pty: a version mismatch, and answers
trickled one byte at a time with delays (a split, delayed stream in the manner of bellows)."""

from __future__ import annotations

import asyncio
import os
import tty

import pytest

from firmware_bridge import protocol as p
from firmware_bridge.host import BoardLink, VersionMismatch


async def serve_peer(master: int, protocol: int, trickle: bool) -> None:
    loop = asyncio.get_running_loop()
    dec = p.Decoder()
    incoming: asyncio.Queue[bytes] = asyncio.Queue()
    loop.add_reader(master, lambda: incoming.put_nowait(os.read(master, 4096)))
    status = p.pack_status(7, 0, 0, p.OFF_BOOT, 0, 0, 0, [(5, 5)] * 4)
    try:
        while True:
            for seq, kind, _ in dec.feed(await incoming.get()):
                if kind == p.IDENTIFY:
                    answer = p.encode(seq, p.IDENTITY, p.pack_identity(7, 0, protocol=protocol))
                else:
                    answer = p.encode(seq, p.ACK, p.pack_ack(kind, status))
                noise = b"\x7e\x30\x00"  # a false start before the answer
                for b in (noise + answer if trickle else answer):
                    os.write(master, bytes([b]))
                    if trickle:
                        await asyncio.sleep(0.002)
    finally:
        loop.remove_reader(master)


async def run_with_peer(protocol: int, trickle: bool) -> tuple[BoardLink, asyncio.Task[None],
                                                                   int, int]:
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    task = asyncio.create_task(serve_peer(master, protocol, trickle))
    return BoardLink(os.ttyname(slave), ack_timeout=1.0), task, master, slave


async def test_version_mismatch_is_refused_in_plain_words() -> None:
    link, task, master, slave = await run_with_peer(protocol=2, trickle=False)
    try:
        with pytest.raises(VersionMismatch, match="speaks protocol 2, this host 1"):
            await link.open()
        assert not link.connected
    finally:
        task.cancel()
        os.close(master)
        os.close(slave)


async def test_trickled_answers_with_a_false_start_are_read() -> None:
    link, task, master, slave = await run_with_peer(protocol=1, trickle=True)
    try:
        ident = await link.open()
        assert ident.boot_id == 7
        status = await link.read()
        assert [c.pages for c in status.channels] == [5, 5, 5, 5]
        assert link.stats["retransmits"] == 0
        await link.close()
    finally:
        task.cancel()
        os.close(master)
        os.close(slave)
