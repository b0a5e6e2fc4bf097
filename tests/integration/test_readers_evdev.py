"""Keyboard-wedge reader over a FIFO of recorded input events, and over uinput if present."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import evdev
import pytest
from evdev import ecodes

from drivers.readers.evdev_reader import DeviceSource, EvdevReader, RecordSource, WedgeSettings
from simulator.readers import SimEvdevReader, input_records, key_strokes


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(reader: EvdevReader) -> AsyncIterator[asyncio.Queue[str]]:
    cards: asyncio.Queue[str] = asyncio.Queue()

    async def put(card: str) -> None:
        cards.put_nowait(card)

    task = asyncio.create_task(reader.run(put))
    try:
        yield cards
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_fifo_swipes_decode(tmp_path: Path) -> None:
    sim = SimEvdevReader(tmp_path / "kbd.fifo")
    reader = EvdevReader("wedge", RecordSource(str(sim.path)))
    async with running(reader) as cards:
        await asyncio.wait_for(reader.ready.wait(), 5)
        await sim.swipe("04A1B2C3")
        await sim.swipe("Card-7:x")
        assert [await asyncio.wait_for(cards.get(), 3) for _ in range(2)] == \
            ["04A1B2C3", "Card-7:x"]
    sim.close_writer()


async def test_writer_gone_is_an_unplug_and_reader_reopens(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sim = SimEvdevReader(tmp_path / "kbd.fifo")
    reader = EvdevReader("wedge", RecordSource(str(sim.path)), max_delay_s=0.2)
    with caplog.at_level(logging.INFO, "pagetally.readers"):
        async with running(reader) as cards:
            await asyncio.wait_for(reader.ready.wait(), 5)
            await sim.swipe("1111")
            assert await asyncio.wait_for(cards.get(), 3) == "1111"
            sim.close_writer()
            await until(lambda: "card reader wedge went away" in caplog.text)
            await asyncio.wait_for(reader.ready.wait(), 5)
            await until(lambda: _try_swipe_ok(sim))
            assert await asyncio.wait_for(cards.get(), 3) == "2222"
    sim.close_writer()


def _try_swipe_ok(sim: SimEvdevReader) -> bool:
    """Open the writer once the reader is back (ENXIO until then) and swipe "2222"."""
    try:
        fd = os.open(sim.path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return False
    os.write(fd, input_records("2222", time.time()))
    os.close(fd)
    return True


async def test_missing_device_retried_until_it_appears(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "later.fifo"
    reader = EvdevReader("late", RecordSource(str(path)), max_delay_s=0.1)
    with caplog.at_level(logging.INFO, "pagetally.readers"):
        async with running(reader) as cards:
            await until(lambda: "cannot open card reader late: No such file or directory; "
                        "trying again in" in caplog.text)
            sim = SimEvdevReader(path)
            await asyncio.wait_for(reader.ready.wait(), 5)
            await sim.swipe("9876")
            assert await asyncio.wait_for(cards.get(), 3) == "9876"
    sim.close_writer()


@pytest.mark.skipif(not os.path.exists("/dev/uinput"),
                    reason="no /dev/uinput on this machine; the FIFO tests above feed the same "
                           "input_event records through the same KeyAssembler")
async def test_uinput_device_grabbed_and_decoded() -> None:
    keys = [ecodes.KEY_ENTER, ecodes.KEY_LEFTSHIFT, *range(ecodes.KEY_1, ecodes.KEY_0 + 1),
            *range(ecodes.KEY_Q, ecodes.KEY_P + 1), *range(ecodes.KEY_A, ecodes.KEY_L + 1),
            *range(ecodes.KEY_Z, ecodes.KEY_M + 1)]
    ui = evdev.UInput({ecodes.EV_KEY: keys}, name="pagetally-test-wedge")
    try:
        reader = EvdevReader("uinput", DeviceSource(ui.device.path, grab=True),
                             WedgeSettings(gap_s=1.0))
        async with running(reader) as cards:
            await asyncio.wait_for(reader.ready.wait(), 5)
            for code, shift in key_strokes("Ab12"):
                if shift:
                    ui.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1)
                ui.write(ecodes.EV_KEY, code, 1)
                ui.write(ecodes.EV_KEY, code, 0)
                if shift:
                    ui.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 0)
                ui.syn()
            assert await asyncio.wait_for(cards.get(), 3) == "Ab12"
    finally:
        ui.close()
