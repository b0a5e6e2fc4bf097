"""Host driver ↔ simulated board over a real pty: enable, limit, lease, faults, reset, unplug."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from firmware_bridge.host import (
    BoardLink,
    BoardReset,
    Disconnected,
    LinkEvent,
    NotAcked,
    PortBusy,
    Refused,
)
from firmware_bridge.messages import ChannelConfig, OffReason, PageKind
from simulator.board import SimBoard

MONO = ChannelConfig(0, 0, PageKind.MONO, pulses_per_page=1, min_pulse_ms=20)


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[SimBoard]:
    b = SimBoard(tmp_path / "copier-board", seed=3)
    await b.start()
    yield b
    await b.stop()


@pytest.fixture
async def link(board: SimBoard) -> AsyncIterator[BoardLink]:
    lk = BoardLink(str(board.link), ack_timeout=0.1, attempts=4, reconnect_s=0.05)
    await lk.open()
    await lk.configure(MONO)
    yield lk
    await lk.close()


async def pulse(board: SimBoard, n: int, width: float = 0.03) -> None:
    for _ in range(n):
        board.set_pin(0, 1)
        await asyncio.sleep(width)
        board.set_pin(0, 0)
        await asyncio.sleep(0.01)


async def next_event(link: BoardLink, kind: str, timeout: float = 5.0) -> LinkEvent:
    async with asyncio.timeout(timeout):
        while True:
            ev = await link.events.get()
            if ev.kind == kind:
                return ev


async def test_enable_count_and_limit_stop_copying(board: SimBoard, link: BoardLink) -> None:
    start = await link.enable(limit=3, lease_s=10)
    assert start.relay and board.relay_on
    await pulse(board, 3)
    status = await link.read()
    assert status.pages_since(start, 0) == 3
    assert not status.relay and status.off_reason == OffReason.LIMIT and not board.relay_on


async def test_lease_lapse_turns_relay_off_and_renew_is_refused(
        board: SimBoard, link: BoardLink) -> None:
    await link.enable(limit=100, lease_s=0.3)
    await link.renew(0.3)
    ev = await next_event(link, "report")
    while ev.status is not None and ev.status.relay:
        ev = await next_event(link, "report")
    assert ev.status is not None and ev.status.off_reason == OffReason.LEASE
    assert not board.relay_on
    with pytest.raises(Refused, match="copying is not enabled"):
        await link.renew(0.3)


async def test_frozen_host_side_means_no_ack_and_the_lease_lapses(
        board: SimBoard, link: BoardLink) -> None:
    await link.enable(limit=100, lease_s=0.3)
    board.host_frozen = True
    with pytest.raises(NotAcked, match="did not answer"):
        await link.renew(0.3)  # 4 tries × 0.1 s: the lease lapses meanwhile
    assert not board.relay_on
    board.host_frozen = False
    assert (await link.read()).off_reason == OffReason.LEASE


async def test_corrupt_bytes_both_ways_give_no_false_count(
        board: SimBoard, link: BoardLink) -> None:
    start = await link.enable(limit=1000, lease_s=30)
    for direction in ("to_host", "to_board"):
        for _ in range(5):
            board.corrupt[direction] += 3
            status = await link.read()  # retransmitted until a clean answer gets through
            assert status.channels[0].pulses == start.channels[0].pulses
    await pulse(board, 4)
    board.corrupt["to_host"] += 20
    await asyncio.sleep(0.2)
    status = await link.read()
    assert status.pages_since(start, 0) == 4
    assert link.latest is not None and link.latest.channels[0].pages <= status.channels[0].pages
    assert link.stats["retransmits"] >= 5


async def test_one_owner_of_the_port(board: SimBoard, link: BoardLink) -> None:
    second = BoardLink(str(board.link))
    with pytest.raises(PortBusy, match="another program"):
        await second.open()


async def test_watchdog_reset_is_seen_through_the_boot_id(
        board: SimBoard, link: BoardLink) -> None:
    await link.enable(limit=100, lease_s=30)
    board.device.hung = True
    ev = await next_event(link, "reset")
    assert ev.reset is not None and ev.reset.old != ev.reset.new
    assert not board.relay_on
    with pytest.raises(BoardReset, match="restarted"):
        await link.read()
    ident = await link.identify()
    assert ident.reset_cause == 1 and ident.boot_id == ev.reset.new
    status = await link.read()
    assert status.off_reason == OffReason.BOOT and status.channels[0].pages == 0


async def test_unplug_and_reconnect_with_power(board: SimBoard, link: BoardLink) -> None:
    start = await link.enable(limit=100, lease_s=30)
    await pulse(board, 2)
    board.unplug(power_off=False)
    await next_event(link, "disconnected")
    with pytest.raises(Disconnected):
        await link.read()
    await pulse(board, 1)  # the board still counts while its cable is out
    board.plug()
    await next_event(link, "connected")
    status = await link.read()
    assert status.boot_id == start.boot_id and status.pages_since(start, 0) == 3


async def test_unplug_without_power_is_a_reset(board: SimBoard, link: BoardLink) -> None:
    await link.enable(limit=100, lease_s=30)
    board.unplug(power_off=True)
    assert not board.relay_on
    await next_event(link, "disconnected")
    board.plug()
    ev = await next_event(link, "reset")
    assert ev.reset is not None
    await next_event(link, "connected")
    status = await link.read()
    assert status.off_reason == OffReason.BOOT and not status.relay
