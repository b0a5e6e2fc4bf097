"""Serial reader over a real pty: framing across writes, noise, bad frames, unplug/replug."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tty
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from drivers.readers.framing import LineFramer, StxEtxFramer
from drivers.readers.serial_reader import SerialReader
from simulator.readers import serial_frame


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


class Pty:
    """One end of a fake serial line: we write as the reader hardware would."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Rig:
    link: Path
    line: Pty
    reader: SerialReader
    cards: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    async def card(self, timeout: float = 3.0) -> str:
        return await asyncio.wait_for(self.cards.get(), timeout)


@pytest.fixture
async def rig(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    framer = getattr(request, "param", None) or StxEtxFramer(checksum="xor-hex")
    line = Pty()
    link = tmp_path / "usb-reader-if00"
    link.symlink_to(line.path)
    reader = SerialReader("test", str(link), framer, baudrate=9600, duplicate_s=1.0,
                          max_delay_s=0.2)
    rig = Rig(link, line, reader)

    async def put(card: str) -> None:
        rig.cards.put_nowait(card)

    task = asyncio.create_task(reader.run(put))
    await asyncio.wait_for(reader.ready.wait(), 5)
    yield rig
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    rig.line.unplug()


async def test_frame_split_across_writes_with_noise(rig: Rig) -> None:
    frame = serial_frame("0F00BC614E", "rdm6300")
    rig.line.write(b"\x00\xffnoise" + frame[:4])
    await asyncio.sleep(0.05)
    rig.line.write(frame[4:9])
    await asyncio.sleep(0.05)
    rig.line.write(frame[9:])
    assert await rig.card() == "0F00BC614E"


async def test_bad_checksum_and_overlong_junk_rejected(rig: Rig,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    bad = bytearray(serial_frame("1122334455", "rdm6300"))
    bad[-2] ^= 0x01
    with caplog.at_level(logging.INFO, "pagetally.readers"):
        rig.line.write(bytes(bad) + b"\x02" + b"A" * 500 + b"\x03")
        rig.line.write(serial_frame("A1A2A3A4A5", "rdm6300"))
        assert await rig.card() == "A1A2A3A4A5"
    assert rig.cards.empty()
    assert "rejected a frame from the card reader: bad xor-hex checksum" in caplog.text
    assert "discarded a frame longer than 64 bytes" in caplog.text


async def test_repeats_suppressed_while_card_rests_on_reader(rig: Rig) -> None:
    frame = serial_frame("0102030405", "rdm6300")
    for _ in range(5):
        rig.line.write(frame)
    rig.line.write(serial_frame("0A0B0C0D0E", "rdm6300"))
    assert [await rig.card(), await rig.card()] == ["0102030405", "0A0B0C0D0E"]
    assert rig.cards.empty()


@pytest.mark.parametrize("rig", [LineFramer()], indirect=True)
async def test_crlf_lines(rig: Rig) -> None:
    rig.line.write(b"12345678\r\n")
    rig.line.write(b"ABC-99\n")
    assert [await rig.card(), await rig.card()] == ["12345678", "ABC-99"]


async def test_unplug_and_replug_at_same_path(rig: Rig,
                                              caplog: pytest.LogCaptureFixture) -> None:
    rig.line.write(serial_frame("0000000001", "rdm6300"))
    assert await rig.card() == "0000000001"
    with caplog.at_level(logging.INFO, "pagetally.readers"):
        rig.link.unlink()          # the adapter is pulled: its by-id link disappears
        rig.line.unplug()
        await until(lambda: not rig.reader.ready.is_set())
        await until(lambda: "cannot open card reader test" in caplog.text)
        new = Pty()
        rig.line = new
        rig.link.symlink_to(new.path)  # plugged back in
        await asyncio.wait_for(rig.reader.ready.wait(), 5)
    new.write(serial_frame("0000000002", "rdm6300"))
    assert await rig.card() == "0000000002"
    assert "card reader test went away" in caplog.text

