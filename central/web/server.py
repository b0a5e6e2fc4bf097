"""uvicorn in a thread of central's process, beside the MQTT service (or alone)."""

from __future__ import annotations

import asyncio
import threading

import uvicorn

from central.web.app import create_app
from central.web.portal import Portal


class WebServer:
    def __init__(self, portal: Portal, host: str, port: int) -> None:
        config = uvicorn.Config(create_app(portal), host=host, port=port, log_level="warning",
                                access_log=False, proxy_headers=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self.failed: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except (OSError, SystemExit) as exc:  # uvicorn exits when the port is taken
            self.failed = exc

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        waited = 0.0
        while not self._server.started and self._thread.is_alive() and waited < timeout:
            self._thread.join(0.05)
            waited += 0.05
        if not self._server.started:
            raise OSError(f"the web server did not start: {self.failed or 'timed out'}")

    @property
    def port(self) -> int:
        servers = self._server.servers
        return servers[0].sockets[0].getsockname()[1] if servers else 0

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
