"""Encode and decode contract payloads; every failure becomes one plain-words ContractError."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec

from contract.payloads import (
    MAX_TXN_BATCH,
    AckBatch,
    AckPayload,
    PrinterPayload,
    ResendRequest,
    RpcRequest,
    RpcResponse,
    StatusPayload,
    TxnPayload,
)

T = TypeVar("T")

_TYPE_WORDS = {
    "int": "a whole number", "float": "a decimal number", "str": "text", "bool": "true or false",
    "object": "a JSON object", "array": "a list", "null": "null", "datetime": "a date-time",
    "uuid": "a UUID", "int | null": "a whole number or null", "str | null": "text or null",
}
_EXPECTED = re.compile(r"Expected `([^`]+)`(?:, got `([^`]+)`)?")
_AT = re.compile(r" - at `\$\.?([^`]*)`")
_FIELD = re.compile(r"Object (contains unknown|missing required) field `([^`]+)`")


class ContractError(ValueError):
    """A payload that does not follow contract v1, explained in plain words."""


def _words(kind: str) -> str:
    return _TYPE_WORDS.get(kind, kind.replace("`", ""))


def plain_error(exc: msgspec.MsgspecError, what: str) -> str:
    """Rewrite a msgspec error message so an operator can act on it."""
    text = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        return f"{what} is not valid JSON ({text.removeprefix('JSON is malformed: ')})"
    where = ""
    at = _AT.search(text)
    if at:
        text = text[: at.start()] + text[at.end():]
        where = f" (at field '{at.group(1)}')" if at.group(1) else ""
    text = _FIELD.sub(lambda m: ("unknown field" if m.group(1).startswith("contains")
                                 else "missing required field") + f" '{m.group(2)}'", text)
    text = _EXPECTED.sub(lambda m: f"expected {_words(m.group(1))}"
                         + (f", got {_words(m.group(2))}" if m.group(2) else ""), text)
    text = text.replace("Invalid UUID", "not a valid UUID")
    return f"{what} is invalid: {text[:1].lower()}{text[1:]}{where}"


def decode(data: bytes | str, type_: type[T] | Any, what: str = "the payload") -> T:
    """Decode JSON into `type_` or raise ContractError with a plain message."""
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.MsgspecError as exc:
        raise ContractError(plain_error(exc, what)) from None


def encode(payload: msgspec.Struct) -> bytes:
    """JSON bytes of a payload (UTF-8, defaults left out, times as ISO 8601 `Z`)."""
    return msgspec.json.encode(payload)


def decode_txn(data: bytes | str) -> TxnPayload:
    return decode(data, TxnPayload, "the txn payload")


class _RawTxnBatch(msgspec.Struct, forbid_unknown_fields=True):
    """A TxnBatch with its txns left encoded, so each is decoded (and refused) on its own."""

    txns: Annotated[list[msgspec.Raw], msgspec.Meta(min_length=1, max_length=MAX_TXN_BATCH)]


def split_txn_batch(data: bytes | str) -> list[bytes]:
    """The txns of one `txns` message (contract v1.2), each still encoded: one bad txn must
    cost only itself, so central decodes each with `decode_txn`, as if it came alone."""
    batch: _RawTxnBatch = decode(data, _RawTxnBatch, "the txn batch")
    return [bytes(raw) for raw in batch.txns]


def decode_ack(data: bytes | str) -> AckPayload:
    return decode(data, AckPayload, "the ack payload")


def decode_acks(data: bytes | str) -> list[AckPayload]:
    """The acks in one `ack` message, either form: a v1 AckPayload or a v1.1 AckBatch.

    A v1.1 device reads both, because central batches only once it has seen the device's
    `status` say so, and a central that predates v1.1 never batches.
    """
    try:
        return msgspec.json.decode(data, type=AckBatch).acks
    except msgspec.MsgspecError as batch_error:
        try:
            return [msgspec.json.decode(data, type=AckPayload)]
        except msgspec.MsgspecError as single_error:
            if _is_batch(data):
                raise ContractError(plain_error(batch_error, "the ack batch")) from None
            raise ContractError(plain_error(single_error, "the ack payload")) from None


def _is_batch(data: bytes | str) -> bool:
    """Whether a payload that failed both decoders meant to be a batch (for the message)."""
    try:
        return "acks" in msgspec.json.decode(data, type=dict)
    except msgspec.MsgspecError:
        return False


def decode_status(data: bytes | str) -> StatusPayload:
    return decode(data, StatusPayload, "the status payload")


def decode_resend(data: bytes | str) -> ResendRequest:
    return decode(data, ResendRequest, "the resend request")


def decode_printer(data: bytes | str) -> PrinterPayload:
    return decode(data, PrinterPayload, "the printer payload")


def decode_request(data: bytes | str) -> RpcRequest:
    return decode(data, RpcRequest, "the rpc request")


def decode_response(data: bytes | str) -> RpcResponse:
    return decode(data, RpcResponse, "the rpc response")
