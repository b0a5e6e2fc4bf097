"""The panel's edge to the agent's local API: every answer and notification decoded into
the API's Structs (agent/api/methods.py) where the JSON arrives, so the controller and the
screens read typed attributes, never dict keys.

An answer that does not decode (an agent of another version, a bug) becomes a BadAnswer:
logged with what was wrong, and shown to the user as a plain message, never a crash.
agent.api's types need only msgspec (tests/unit/test_ui_imports.py keeps it so), so the
panel, a separate process, does not load the agent's daemon to use them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import msgspec

from agent.api.client import ApiClient, ApiError
from agent.api.methods import NOTIFICATIONS, Method, P, R, convert
from contract.codec import plain_error
from ui import strings

log = logging.getLogger("pagetally.panel")


class BadAnswer(ApiError):
    """The agent answered with something the API does not describe; `detail` says what."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__("bad-answer", strings.ERROR_BAD_ANSWER)
        self.what = what
        self.detail = detail


def decode(what: str, value: Any, kind: Any) -> Any:
    """`value` as the written type `kind`, or a logged BadAnswer naming `what`."""
    try:
        return convert(value, kind)
    except msgspec.ValidationError as exc:
        detail = plain_error(exc, f"The agent's {what}")
        log.error("%s", detail)
        raise BadAnswer(what, detail) from None


class AgentApi:
    """An ApiClient that takes params Structs and gives back result Structs."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    @classmethod
    async def connect(cls, socket_path: str) -> AgentApi:
        return cls(await ApiClient.connect(socket_path))

    async def call(self, method: Method[P, R], params: P) -> R:
        raw = await self.client.call(method.name, msgspec.to_builtins(params))
        return cast(R, decode(f"answer to {method.name}", raw, method.result))

    async def notifications(self) -> AsyncIterator[tuple[str, object]]:
        """(name, payload Struct) for each notification the API describes, until the agent
        closes the connection; a BadAnswer as the payload of one that does not decode.
        Notifications of a newer agent that this panel does not know are skipped."""
        async for name, params in self.client.notifications():
            note = NOTIFICATIONS.get(name)
            if note is None:
                log.debug("skipped the agent's notification %r: not one this panel knows",
                          name)
                continue
            try:
                yield name, decode(f"{name!r} notification", params, note.params)
            except BadAnswer as exc:
                yield name, exc

    async def close(self) -> None:
        await self.client.close()
