"""copy.start, copy.stop and copy.status on the local API: plain-words errors at the edge."""

from __future__ import annotations

from collections.abc import Callable

from agent.api.params import NoParams
from agent.api.payloads import CopyProgress, CopyResult
from agent.api.protocol import ApiError
from agent.copying.life import CopySessionLife
from agent.copying.session import CopyDenied, CopyUnavailable


class CopyApi:
    def __init__(self, runner: CopySessionLife, user: Callable[[], str]) -> None:
        self.runner = runner
        self.user = user

    async def start(self, params: NoParams) -> CopyProgress:
        user = self.user()
        try:
            return await self.runner.start(user)
        except CopyDenied as exc:
            raise ApiError("denied", str(exc)) from exc
        except CopyUnavailable as exc:
            raise ApiError("copy-unavailable", str(exc)) from exc

    async def stop(self, params: NoParams) -> CopyResult:
        """Stop the user's session: the answer is its settled result."""
        try:
            result = await self.runner.stop(self.user())
        except CopyUnavailable as exc:
            raise ApiError("not-found", str(exc)) from exc
        assert result is not None
        return result

    async def status(self, params: NoParams) -> CopyProgress | None:
        self.user()
        return self.runner.status()
