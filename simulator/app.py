"""Wire the simulated MFD together: engine, IPP + control over HTTP, SNMP over UDP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from simulator import board_control, control, ipp_server, readers, snmp_agent
from simulator.config import SimConfig
from simulator.engine import Engine

log = logging.getLogger("pagetally.sim")


@dataclass
class Endpoints:
    ipp: str
    control: str
    snmp: str

    def to_json(self) -> str:
        return json.dumps({"ipp": self.ipp, "control": self.control, "snmp": self.snmp})


def build_http_app(engine: Engine) -> web.Application:
    app = web.Application(client_max_size=engine.config.max_request_bytes)
    ipp_server.add_routes(app, engine)
    readers.add_routes(app, readers.SimReaders())
    board_control.add_routes(app, engine)  # before control's catch-all /sim/ route
    control.add_routes(app, engine)
    return app


@contextlib.asynccontextmanager
async def running_simulator(config: SimConfig) -> AsyncIterator[tuple[Engine, Endpoints]]:
    """Start everything; yield the engine and the endpoints actually bound."""
    engine = Engine(config)
    engine_task = asyncio.create_task(engine.run(), name="sim-engine")
    runner = web.AppRunner(build_http_app(engine), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.http_port)
    await site.start()
    http_port = runner.addresses[0][1]
    snmp = await snmp_agent.start(engine, config.host, config.snmp_port, config.snmp_community)
    endpoints = Endpoints(
        ipp=f"ipp://{config.host}:{http_port}/ipp/print",
        control=f"http://{config.host}:{http_port}/sim/",
        snmp=f"udp://{config.host}:{snmp.port}",
    )
    try:
        yield engine, endpoints
    finally:
        snmp.close()
        await runner.cleanup()
        engine_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine_task


async def serve(config: SimConfig) -> None:
    async with running_simulator(config) as (_, endpoints):
        print(f"IPP printer:    {endpoints.ipp}", flush=True)
        print(f"Control API:    {endpoints.control}", flush=True)
        print(f"SNMP v2c agent: {endpoints.snmp} (community {config.snmp_community!r})",
              flush=True)
        print(f"READY {endpoints.to_json()}", flush=True)
        await until_signalled()


async def until_signalled() -> None:
    """SIGTERM (a supervisor, a test) stops as cleanly as Ctrl-C: temp files go too."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
