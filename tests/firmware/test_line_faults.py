"""A noisy serial line (simulator.line_faults): bytes changed, lost, split and delayed.

First the codec behind the line's fault model, fuzzed: whatever the line does, the decoder
yields only frames that were sent, in order, and every frame that came through untouched.
Then the host driver against the simulated board over a real pty with such a line.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge import protocol as p
from firmware_bridge.host import BoardLink
from firmware_bridge.messages import ChannelConfig, PageKind, Status
from simulator.app import running_simulator
from simulator.board import SimBoard
from simulator.config import ConfigError, SimConfig, load_config
from simulator.line_faults import Line, LineFaults

MONO = ChannelConfig(0, 0, PageKind.MONO, pulses_per_page=1, min_pulse_ms=20)

counters = st.lists(st.tuples(st.integers(0, p.U32), st.integers(0, p.U32)),
                    min_size=p.CHANNELS, max_size=p.CHANNELS)
reports = st.builds(lambda seq, pages: p.encode(seq, p.REPORT,
                                                p.pack_status(7, 1000, 1, 0, 1, 50, 3, pages)),
                    st.integers(0, 255), counters)
frames = st.lists(st.one_of(reports, st.builds(p.encode, st.integers(0, 255), st.just(p.READ))),
                  min_size=1, max_size=12)
faults = st.builds(LineFaults, corrupt=st.floats(0, 0.05), drop=st.floats(0, 0.05),
                   split=st.integers(0, 9), delay_ms=st.integers(0, 40),
                   seed=st.integers(0, 2**32))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sent=frames, faults=faults)
def test_a_noisy_line_never_gives_a_false_frame(sent: list[bytes], faults: LineFaults) -> None:
    line = Line()
    line.configure(faults)
    decoder = p.Decoder()
    got: list[bytes] = []
    untouched: list[bytes] = []  # and the frame before it too: a lost closing sync may take
    clean = True                 # the next frame's opening one with it
    for frame in sent:
        pieces = line.carry("to_host", frame)
        assert all(delay <= faults.delay_ms / 1000 for delay, _ in pieces)
        whole = b"".join(piece for _, piece in pieces) == frame
        if whole and clean:
            untouched.append(frame)
        clean = whole
        for _, piece in pieces:
            got += [p.encode(*f) for f in decoder.feed(piece)]
    it = iter(sent)
    assert all(frame in it for frame in got), "a frame that was never sent, or out of order"
    assert all(frame in got for frame in untouched)
    assert line.stats["bytes"] == sum(map(len, sent)) or not faults.active


def test_line_faults_are_checked_in_plain_words() -> None:
    with pytest.raises(msgspec.ValidationError, match="a chance per byte, from 0 to 1"):
        msgspec.convert({"drop": 1.5}, LineFaults)
    with pytest.raises(msgspec.ValidationError, match="must be 0 or more"):
        msgspec.convert({"split": -1}, LineFaults)
    with pytest.raises(msgspec.ValidationError, match="Object contains unknown field"):
        msgspec.convert({"noise": 0.1}, LineFaults)


def test_only_the_chosen_direction_is_damaged() -> None:
    line = Line()
    line.configure(LineFaults(drop=1.0, direction="to_board"))
    assert line.carry("to_host", b"\x7eabc") == [(0.0, b"\x7eabc")]
    assert line.carry("to_board", b"\x7eabc") == []
    assert line.stats["dropped"] == 4


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[SimBoard]:
    b = SimBoard(tmp_path / "copier-board", seed=5)
    await b.start()
    yield b
    await b.stop()


async def pulses(board: SimBoard, n: int) -> None:
    for _ in range(n):
        board.set_pin(0, 1)
        await asyncio.sleep(0.03)
        board.set_pin(0, 0)
        await asyncio.sleep(0.01)


def drained(link: BoardLink) -> list[Status]:
    seen = []
    while not link.events.empty():
        event = link.events.get_nowait()
        if event.status is not None:
            seen.append(event.status)
    return seen


async def test_host_counts_exactly_through_a_noisy_line_and_logs_what_it_dropped(
        board: SimBoard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pagetally.board")
    link = BoardLink(str(board.link))
    await link.open()
    try:
        await link.configure(MONO)
        start = await link.enable(limit=1000, lease_s=30)
        drained(link)
        board.set_line(LineFaults(corrupt=0.01, drop=0.01, split=5, delay_ms=20, seed=11))
        await pulses(board, 30)
        heavy = dict(board.line.stats)
        board.set_line(LineFaults(corrupt=0.002, drop=0.002, split=3, delay_ms=10, seed=12))
        for _ in range(5):  # commands get through by retransmission
            status = await link.read()
            assert status.pages_since(start, 0) == 30
        board.set_line(LineFaults())
        seen = [s.pages_since(start, 0) for s in drained(link)]
        async with asyncio.timeout(5):  # the next report on the clean line catches up
            while (event := await link.events.get()).status is None:
                continue
        assert event.status is not None
        caught_up = event.status.pages_since(start, 0)
    finally:
        await link.close()
    assert seen == sorted(seen) and max(seen) <= 30, seen  # never ahead of the copier
    assert len(seen) < 30 and link.stats["report_gaps"] > 0  # reports were lost
    assert caught_up == 30 and event.status.relay
    assert heavy["corrupted"] > 0 and heavy["dropped"] > 0 and heavy["delayed"] > 0
    assert heavy["pieces"] > heavy["writes"]
    assert re.search(r"\d+ bytes? dropped before this frame, as no part of a valid frame",
                     caplog.text)
    assert re.search(r"\d+ board reports? lost \(report \d+ came after \d+\)", caplog.text)


async def test_the_line_is_set_and_shown_through_sim_board() -> None:
    config = SimConfig(http_port=0, snmp_port=0, ppm=1200, warmup_s=0)
    async with running_simulator(config) as (_, endpoints), aiohttp.ClientSession() as http:
        base = endpoints.control
        async with http.post(base + "board/line", json={"drop": 2}) as r:
            assert r.status == 400
            assert "drop is a chance per byte, from 0 to 1" in await r.text()
        async with http.post(base + "board/line", json={"corrupt": 0.5, "split": 3,
                                                        "direction": "to_board"}) as r:
            line = (await r.json())["line"]
        assert (line["corrupt"], line["split"], line["direction"]) == (0.5, 3, "to_board")
        async with http.post(base + "board/line", json={}) as r:
            line = (await r.json())["line"]
        assert (line["corrupt"], line["split"], line["stats"]["writes"]) == (0.0, 0, 0)


async def test_the_line_can_start_noisy_from_the_simulator_config(tmp_path: Path) -> None:
    toml = tmp_path / "sim.toml"
    toml.write_text("[sim]\nhttp_port = 0\nsnmp_port = 0\n"
                    "[sim.board_line]\ndrop = 0.25\nsplit = 4\ndirection = \"to_host\"\n")
    config = load_config(toml, {})
    async with (running_simulator(config) as (_, endpoints), aiohttp.ClientSession() as http,
                http.get(endpoints.control + "board") as r):
        line = (await r.json())["line"]
    assert (line["drop"], line["split"], line["direction"]) == (0.25, 4, "to_host")
    toml.write_text("[sim.board_line]\ncorrupt = -1\n")
    with pytest.raises(ConfigError, match="corrupt is a chance per byte, from 0 to 1"):
        load_config(toml, {})
