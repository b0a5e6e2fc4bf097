"""Request/response with central over MQTT v5: response topic plus correlation data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import aiomqtt
import msgspec
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.sync.link import CentralLink
from contract.codec import ContractError, decode_response, encode
from contract.payloads import RpcRequest, RpcResponse

log = logging.getLogger("pagetally.sync.rpc")


class CentralUnavailable(Exception):
    """Central did not answer in time, or the broker is down: the caller goes offline."""


class RpcClient:
    def __init__(self, link: CentralLink, timeout_s: float = 2.0) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self._waiting: dict[bytes, asyncio.Future[RpcResponse]] = {}
        link.on("rpc/res", self._handle)

    async def call(self, request: RpcRequest, *, timeout_s: float | None = None) -> RpcResponse:
        """Central's answer, or CentralUnavailable after `timeout_s` (default: the client's)."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        if not self.link.first_attempt_done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.link.first_attempt_done.wait(), timeout)
        if not self.link.connected.is_set():
            raise CentralUnavailable("not connected to the broker")
        correlation = uuid.uuid4().bytes
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.link.topic("rpc/res")
        props.CorrelationData = correlation
        future: asyncio.Future[RpcResponse] = asyncio.get_running_loop().create_future()
        self._waiting[correlation] = future
        async def exchange() -> RpcResponse:
            await self.link.publish("rpc/req", encode(request), qos=1, properties=props)
            return await future

        try:
            return await asyncio.wait_for(exchange(), timeout)
        except (TimeoutError, aiomqtt.MqttError) as exc:
            raise CentralUnavailable(f"central did not answer within {timeout} s") from exc
        finally:
            self._waiting.pop(correlation, None)

    async def _handle(self, message: aiomqtt.Message) -> None:
        props = message.properties
        correlation = getattr(props, "CorrelationData", None) if props else None
        future = self._waiting.get(bytes(correlation)) if correlation else None
        if future is None or future.done():
            return
        try:
            future.set_result(decode_response(bytes(message.payload)))
        except (ContractError, msgspec.MsgspecError) as exc:
            log.warning("ignored a bad rpc response from central: %s", exc)
