"""MQTT contract v1, shared by the agent and central; it imports nothing else from the project.

Agent side, in short: build topics with `topic()`, publish `encode(TxnPayload(...))` with QoS 1
on `topic(site, device, "txn")`, subscribe to `topic(site, device, "ack")` and decode with
`decode_ack()`. See docs/mqtt.md.
"""

from contract.codec import (
    ContractError,
    decode,
    decode_ack,
    decode_acks,
    decode_printer,
    decode_request,
    decode_resend,
    decode_response,
    decode_status,
    decode_txn,
    encode,
    split_txn_batch,
)
from contract.payloads import (
    MAX_ACK_BATCH,
    MAX_TXN_BATCH,
    AccountParams,
    AccountRequest,
    AccountResponse,
    AccountStatement,
    AccountSummary,
    AckBatch,
    AckPayload,
    AuthParams,
    AuthRequest,
    AuthResponse,
    InvalidResponse,
    JobInfo,
    LinkCardParams,
    LinkCardRequest,
    LinkCardResponse,
    PrinterPayload,
    ResendRequest,
    RpcError,
    RpcRequest,
    RpcResponse,
    StatusPayload,
    TransactionRow,
    TxnBatch,
    TxnPayload,
)
from contract.topics import (
    CENTRAL_SITE,
    CENTRAL_STATUS_SUBSCRIPTION,
    KINDS,
    RESEND_TOPIC,
    ROOT,
    RPC_SHARED_SUBSCRIPTION,
    STATUS_SUBSCRIPTION,
    TXN_BATCH_SHARED_SUBSCRIPTION,
    TXN_SHARED_SUBSCRIPTION,
    Topic,
    TopicError,
    central_status_topic,
    device_root,
    parse_topic,
    topic,
)

VERSION = 1
#: v1.1 adds AckBatch on `ack`, for devices whose status says `ack_batch`; v1.2 adds
#: TxnBatch on `txns`, sent while a central instance's status says `txn_batch`, and the
#: retained ResendRequest on RESEND_TOPIC, after a restore of central's ledger.
MINOR_VERSION = 2


def json_schema() -> dict[str, object]:
    """JSON Schema per payload name (imported lazily so `python -m contract.schema` runs clean)."""
    from contract.schema import json_schema as build

    return build()

__all__ = [
    "CENTRAL_SITE",
    "CENTRAL_STATUS_SUBSCRIPTION",
    "KINDS",
    "MAX_ACK_BATCH",
    "MAX_TXN_BATCH",
    "MINOR_VERSION",
    "RESEND_TOPIC",
    "ROOT",
    "RPC_SHARED_SUBSCRIPTION",
    "STATUS_SUBSCRIPTION",
    "TXN_BATCH_SHARED_SUBSCRIPTION",
    "TXN_SHARED_SUBSCRIPTION",
    "VERSION",
    "AccountParams",
    "AccountRequest",
    "AccountResponse",
    "AccountStatement",
    "AccountSummary",
    "AckBatch",
    "AckPayload",
    "AuthParams",
    "AuthRequest",
    "AuthResponse",
    "ContractError",
    "InvalidResponse",
    "JobInfo",
    "LinkCardParams",
    "LinkCardRequest",
    "LinkCardResponse",
    "PrinterPayload",
    "ResendRequest",
    "RpcError",
    "RpcRequest",
    "RpcResponse",
    "StatusPayload",
    "Topic",
    "TopicError",
    "TransactionRow",
    "TxnBatch",
    "TxnPayload",
    "central_status_topic",
    "decode",
    "decode_ack",
    "decode_acks",
    "decode_printer",
    "decode_request",
    "decode_resend",
    "decode_response",
    "decode_status",
    "decode_txn",
    "device_root",
    "encode",
    "json_schema",
    "parse_topic",
    "split_txn_batch",
    "topic",
]
