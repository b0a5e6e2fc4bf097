"""JSON-RPC 2.0 framing shared by the agent's server and its clients."""

from __future__ import annotations

import json
from typing import Any

MAX_LINE = 1024 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
APP_ERROR = -32000


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


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def request(method: str, params: dict[str, Any] | None, req_id: int) -> bytes:
    return encode({"jsonrpc": "2.0", "method": method, "params": params or {}, "id": req_id})


def notification(method: str, params: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "method": method, "params": params})


def result(req_id: Any, value: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "result": value, "id": req_id})


def error(req_id: Any, err: ApiError) -> bytes:
    return encode({"jsonrpc": "2.0", "error": err.to_json(), "id": req_id})
