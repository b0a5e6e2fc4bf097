"""JSON-RPC 2.0 framing shared by the agent's server and its clients.

Requests are decoded with msgspec in two steps: the envelope (`method`, `params`, `id`), then
the params into the method's Struct (agent/api/methods.py), so a bad request is refused in
plain words naming the field before any handler runs.
"""

from __future__ import annotations

from typing import Any

import msgspec

from agent.api.methods import Method, P
from contract.codec import plain_error

MAX_LINE = 1024 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
APP_ERROR = -32000

ReqId = int | str | None


class ApiError(Exception):
    """An error a method returns to the caller; `kind` and `message` are for people."""

    def __init__(self, kind: str, message: str, data: dict[str, Any] | None = None,
                 code: int = APP_ERROR) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.data = {"kind": kind, **(data or {})}
        self.code = code

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.data}

    @classmethod
    def from_json(cls, error: dict[str, Any]) -> ApiError:
        data = error.get("data") or {}
        kind = str(data.get("kind", "error"))
        extra = {k: v for k, v in data.items() if k != "kind"}
        return cls(kind, str(error.get("message", "unknown error")), extra,
                   int(error.get("code", APP_ERROR)))


class Request(msgspec.Struct):
    """The envelope; `params` stays raw JSON until the method (and so its type) is known."""

    method: str
    params: msgspec.Raw = msgspec.Raw(b"{}")
    id: ReqId = None
    jsonrpc: str = "2.0"


class _IdOnly(msgspec.Struct):
    id: Any = None


_requests = msgspec.json.Decoder(Request)
_ids = msgspec.json.Decoder(_IdOnly)


def parse_request(line: bytes) -> Request:
    """One request line, or an ApiError saying in plain words why it is not one."""
    try:
        return _requests.decode(line)
    except msgspec.ValidationError as exc:
        raise ApiError("invalid-request", plain_error(exc, "The request"),
                       code=INVALID_REQUEST) from None
    except msgspec.DecodeError as exc:
        raise ApiError("invalid-request", plain_error(exc, "The request"),
                       code=PARSE_ERROR) from None


def request_id(line: bytes) -> Any:
    """The id of a request that could not be decoded, if it has one, to answer it."""
    try:
        return _ids.decode(line).id
    except msgspec.DecodeError:
        return None


def parse_params(method: Method[P, Any], raw: msgspec.Raw) -> P:
    """The params as the method's Struct; missing or null params are `{}`."""
    data = bytes(raw)
    try:
        return msgspec.json.decode(b"{}" if data == b"null" else data, type=method.params)
    except msgspec.DecodeError as exc:
        raise ApiError("invalid-params", plain_error(exc, f"The request for {method.name}"),
                       code=INVALID_PARAMS) from None


def encode(obj: dict[str, Any]) -> bytes:
    return msgspec.json.encode(obj) + b"\n"


def request(method: str, params: Any, req_id: int) -> bytes:
    return encode({"jsonrpc": "2.0", "method": method, "params": params or {}, "id": req_id})


def notification(method: str, params: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "method": method, "params": params})


def result(req_id: Any, value: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "result": value, "id": req_id})


def error(req_id: Any, err: ApiError) -> bytes:
    return encode({"jsonrpc": "2.0", "error": err.to_json(), "id": req_id})
