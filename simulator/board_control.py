"""/sim/board: the simulated copier board and copier, with faults on the serial line."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal, TypeVar

import msgspec
from aiohttp import web

from simulator.board import SimBoard
from simulator.copier import SimCopier
from simulator.engine import Engine
from simulator.line_faults import LineFaults

BOARD = web.AppKey("sim_board", SimBoard)
COPIER = web.AppKey("sim_copier", SimCopier)
T = TypeVar("T")


class CopyBody(msgspec.Struct, forbid_unknown_fields=True):
    pages: int
    color: bool = False
    size: str = "A4"


class UnplugBody(msgspec.Struct, forbid_unknown_fields=True):
    power_off: bool = True


class CorruptBody(msgspec.Struct, forbid_unknown_fields=True):
    bytes: int
    direction: Literal["to_host", "to_board"] = "to_host"


class FreezeBody(msgspec.Struct, forbid_unknown_fields=True):
    frozen: bool = True


async def _body(request: web.Request, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(await request.read() or b"{}", type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise web.HTTPBadRequest(text=f'{{"error": "invalid request: {exc}"}}',
                                 content_type="application/json") from exc


def add_routes(app: web.Application, engine: Engine) -> None:
    """Start the board with the app (its pty lives in a temporary folder) and add its routes."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        folder = Path(tempfile.mkdtemp(prefix="pagetally-board-"))
        board = SimBoard(folder / "copier-board")
        board.set_line(engine.config.board_line)
        await board.start()
        app[BOARD] = board
        app[COPIER] = SimCopier(engine, board)
        yield
        await board.stop()
        shutil.rmtree(folder, ignore_errors=True)

    app.cleanup_ctx.append(lifetime)
    app.router.add_get("/sim/board", _state)
    app.router.add_post("/sim/board/copy", _copy)
    app.router.add_post("/sim/board/unplug", _unplug)
    app.router.add_post("/sim/board/plug", _plug)
    app.router.add_post("/sim/board/corrupt", _corrupt)
    app.router.add_post("/sim/board/freeze", _freeze)
    app.router.add_post("/sim/board/line", _line)


async def _state(request: web.Request) -> web.Response:
    """The copier board: its pty path, relay, counters, plug and fault state."""
    return web.json_response(request.app[BOARD].state())


async def _copy(request: web.Request) -> web.Response:
    """Walk-up copy of N pages (color, size) that runs only while the board enables it."""
    body = await _body(request, CopyBody)
    if body.pages < 1:
        return web.json_response({"error": "a copy needs at least 1 page"}, status=400)
    run = await request.app[COPIER].copy(body.pages, body.color, body.size)
    return web.json_response({"asked": run.asked, "copied": run.copied,
                              "refused": run.refused})


async def _unplug(request: web.Request) -> web.Response:
    """Pull the board's cable (power_off: false keeps it powered)."""
    body = await _body(request, UnplugBody)
    request.app[BOARD].unplug(power_off=body.power_off)
    return web.json_response(request.app[BOARD].state())


async def _plug(request: web.Request) -> web.Response:
    """Plug the board back in at the same path (it boots if it had lost power)."""
    request.app[BOARD].plug()
    return web.json_response(request.app[BOARD].state())


async def _corrupt(request: web.Request) -> web.Response:
    """Corrupt the next N bytes on the line, to_host or to_board."""
    body = await _body(request, CorruptBody)
    if body.bytes < 0:
        return web.json_response({"error": "bytes must be 0 or more"}, status=400)
    request.app[BOARD].corrupt[body.direction] += body.bytes
    return web.json_response(request.app[BOARD].state())


async def _freeze(request: web.Request) -> web.Response:
    """Freeze the host side: its bytes stop reaching the board (frozen: false thaws)."""
    body = await _body(request, FreezeBody)
    request.app[BOARD].host_frozen = body.frozen
    return web.json_response(request.app[BOARD].state())


async def _line(request: web.Request) -> web.Response:
    """A noisy line from now on: bytes changed, lost, split and delayed ({} clears it)."""
    request.app[BOARD].set_line(await _body(request, LineFaults))
    return web.json_response(request.app[BOARD].state())
