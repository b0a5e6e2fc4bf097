"""MQTT contract v1: topics, strict payloads, plain-words errors, fuzzed bytes."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract import (
    AccountRequest,
    AckPayload,
    AuthRequest,
    AuthResponse,
    ContractError,
    InvalidResponse,
    JobInfo,
    RpcError,
    StatusPayload,
    Topic,
    TopicError,
    TxnPayload,
    decode_ack,
    decode_request,
    decode_response,
    decode_status,
    decode_txn,
    encode,
    parse_topic,
    topic,
)

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


def txn(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "txn_id": "01955a4e-0000-7000-8000-00000000abcd", "site": "lib", "device": "mfd-1",
        "type": "print", "user": "alice", "amount": -120, "currency": "EUR",
        "occurred_at": "2025-03-01T09:30:00Z"}
    return {**base, **over}


def test_topics_build_and_parse() -> None:
    assert topic("lib", "mfd-1", "rpc/req") == "pagetally/v1/lib/mfd-1/rpc/req"
    assert parse_topic("pagetally/v1/lib/mfd-1/rpc/res") == Topic("lib", "mfd-1", "rpc/res")
    assert str(Topic("lib", "mfd-1", "ack")) == "pagetally/v1/lib/mfd-1/ack"


@pytest.mark.parametrize("bad", ["pagetally/v2/lib/mfd-1/txn", "pagetally/v1/lib/txn",
                                 "pagetally/v1/lib/mfd-1/rpc", "pagetally/v1/l b/mfd-1/txn",
                                 "pagetally/v1/lib/+/txn", "pagetally/v1/lib/mfd-1/txn/x"])
def test_foreign_topics_are_refused(bad: str) -> None:
    with pytest.raises(TopicError):
        parse_topic(bad)


@pytest.mark.parametrize("level", ["", "a/b", "#", "+", "_x", "x" * 65, "é"])
def test_ids_that_could_escape_their_level_are_refused(level: str) -> None:
    with pytest.raises(TopicError, match="is not allowed"):
        topic("lib", level, "txn")


def test_a_valid_txn_decodes_and_round_trips() -> None:
    job = {"job_id": "42", "pages": 3, "estimate": 150, "review": True}
    decoded = decode_txn(msgspec.json.encode(txn(job=job, note="jam at page 3")))
    assert decoded.amount == -120 and decoded.occurred_at == NOW
    assert decoded.job == JobInfo("42", pages=3, estimate=150, review=True)
    assert decode_txn(encode(decoded)) == decoded
    assert b'"comment"' not in encode(decoded)  # defaults stay off the wire
    upper = decode_txn(msgspec.json.encode(txn(txn_id="01955A4E00007000800000000000ABCD")))
    assert str(upper.txn_id) == "01955a4e-0000-7000-8000-00000000abcd"  # one canonical key


@pytest.mark.parametrize(("over", "words"), [
    ({"amount": -1.5}, "expected a whole number, got a decimal number (at field 'amount')"),
    ({"amount": -1.0}, "expected a whole number, got a decimal number"),
    ({"amount": "-1"}, "expected a whole number, got text"),
    ({"amount": True}, "expected a whole number, got true or false"),
    ({"amount": 5}, "a print charge must not raise the balance"),
    ({"type": "refund", "amount": -5}, "a refund must not lower the balance"),
    ({"txn_id": "42"}, "not a valid UUID (at field 'txn_id')"),
    ({"occurred_at": "2025-03-01T09:30:00"}, "timezone"),
    ({"occurred_at": "2025-03-01T10:30:00+01:00"}, "occurred_at must be in UTC"),
    ({"currency": "eur"}, "at field 'currency'"),
    ({"type": "scan"}, "invalid enum value 'scan' (at field 'type')"),
    ({"bonus": 1}, "unknown field 'bonus'"),
    ({"device": "a/b"}, "at field 'device'"),
])
def test_bad_txns_are_refused_in_plain_words(over: dict[str, object], words: str) -> None:
    with pytest.raises(ContractError) as err:
        decode_txn(msgspec.json.encode(txn(**over)))
    assert words in str(err.value)
    assert str(err.value).startswith("the txn payload is invalid: ")


def test_missing_field_and_broken_json() -> None:
    data = txn()
    del data["user"]
    with pytest.raises(ContractError, match="missing required field 'user'"):
        decode_txn(msgspec.json.encode(data))
    with pytest.raises(ContractError, match="is not valid JSON"):
        decode_txn(b'{"txn_id": ')


def test_ack_status_and_rpc_payloads() -> None:
    ack = AckPayload(uuid.uuid4(), "rejected", 0, "there is no user 'bob'")
    assert decode_ack(encode(ack)) == ack
    status = StatusPayload(True, "0.1.0", NOW)
    assert encode(status) == b'{"online":true,"version":"0.1.0","since":"2025-03-01T09:30:00Z"}'
    assert decode_status(encode(status)) == status
    auth = decode_request(b'{"method":"auth","params":{"card":"00042A17"}}')
    assert isinstance(auth, AuthRequest) and auth.params.card == "00042A17"
    account = decode_request(b'{"method":"account","params":{"user":"alice"}}')
    assert isinstance(account, AccountRequest)
    assert (account.params.limit, account.params.days) == (100, 90)
    with pytest.raises(ContractError, match="exactly one of 'code' or 'card'"):
        decode_request(b'{"method":"auth","params":{}}')
    with pytest.raises(ContractError,
                       match=r"expected a whole number <= 90 \(at field .params\.days.\)"):
        decode_request(b'{"method":"account","params":{"user":"a","days":365}}')
    with pytest.raises(ContractError, match="invalid value 'delete'"):
        decode_request(b'{"method":"delete","params":{}}')
    refusal = AuthResponse(error=RpcError("locked", "Too many wrong codes.", retry_after=60))
    assert decode_response(encode(refusal)) == refusal
    assert isinstance(decode_response(b'{"method":"invalid","error":{"code":"bad_request",'
                                      b'"message":"x"}}'), InvalidResponse)
    with pytest.raises(ContractError, match="exactly one of 'result' or 'error'"):
        decode_response(b'{"method":"auth"}')


@given(st.binary(max_size=300))
def test_any_bytes_give_a_payload_or_a_contract_error(data: bytes) -> None:
    for decoder in (decode_txn, decode_ack, decode_status, decode_request, decode_response):
        try:
            decoder(data)
        except ContractError as exc:
            assert str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3), max_leaves=8)


@given(st.dictionaries(st.sampled_from([*sorted(txn()), "job", "note", "x"]), json_values))
def test_json_that_is_almost_a_txn_never_crashes(fields: dict[str, object]) -> None:
    try:
        decoded = decode_txn(msgspec.json.encode({**txn(), **fields}))
    except ContractError:
        return
    assert isinstance(decoded, TxnPayload) and isinstance(decoded.amount, int)
