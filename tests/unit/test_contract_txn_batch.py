"""Contract v1.2: central splits a TxnBatch into its txns still encoded (so each is refused
alone), an unreadable batch or resend request fails in plain words, and the agent's view of
central follows the instances' statuses."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.sync.central_status import CentralInstances
from contract import (
    MAX_TXN_BATCH,
    ContractError,
    ResendRequest,
    StatusPayload,
    TxnBatch,
    TxnPayload,
    central_status_topic,
    decode_resend,
    decode_txn,
    encode,
    split_txn_batch,
)

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


def txn(amount: int = -10) -> TxnPayload:
    return TxnPayload(uuid.uuid4(), "s1", "dev-a", "print", "alice", amount, "EUR", NOW)


def test_a_batch_splits_into_the_txns_it_carries() -> None:
    txns = [txn(-1), txn(-2), txn(0)]
    parts = split_txn_batch(encode(TxnBatch(txns)))
    assert [decode_txn(p) for p in parts] == txns
    assert parts[0] == encode(txns[0])  # byte for byte: a rejection keeps its own entry


def test_one_bad_entry_does_not_spoil_the_split() -> None:
    body = b'{"txns":[' + encode(txn()) + b',{"amount":1.5},"x"]}'
    parts = split_txn_batch(body)
    assert len(parts) == 3
    decode_txn(parts[0])
    for bad in parts[1:]:
        with pytest.raises(ContractError):
            decode_txn(bad)


@pytest.mark.parametrize(("data", "words"), [
    (b'{"txns":[]}', "the txn batch is invalid: expected a list of length >= 1"),
    (b'{"txns":{}}', "the txn batch is invalid: expected a list, got a JSON object"),
    (b'{"txns":[1],"more":2}', "unknown field 'more'"),
    (b"[]", "the txn batch is invalid: expected a JSON object, got a list"),
    (b"\xff\xfe", "the txn batch is not valid JSON"),
    (b'{"txns":[' + b",".join([b"1"] * (MAX_TXN_BATCH + 1)) + b"]}",
     f"expected a list of length <= {MAX_TXN_BATCH}"),
])
def test_unreadable_batches_are_refused_in_plain_words(data: bytes, words: str) -> None:
    with pytest.raises(ContractError) as caught:
        split_txn_batch(data)
    assert words in str(caught.value)


@given(st.binary(max_size=512))
def test_any_bytes_split_or_fail_in_plain_words(data: bytes) -> None:
    try:
        parts = split_txn_batch(data)
    except ContractError as exc:
        assert str(exc).startswith("the txn batch ")
        return
    assert 1 <= len(parts) <= MAX_TXN_BATCH
    for part in parts:  # each part is one JSON value, which decodes or fails on its own
        msgspec.json.decode(part)


def _status(online: bool, txn_batch: bool) -> bytes:
    return encode(StatusPayload(online, "1.2", NOW, txn_batch=txn_batch))


def test_the_agent_batches_while_any_online_instance_says_so() -> None:
    central = CentralInstances()
    a, b = central_status_topic("central-a"), central_status_topic("central-b")
    assert not central.take_batches
    central.note(a, _status(True, False))  # an instance from before v1.2
    assert not central.take_batches
    central.note(b, _status(True, True))
    assert central.take_batches
    central.note(b, _status(False, True))  # its last will: gone
    assert not central.take_batches
    central.note(b, _status(True, True))
    central.note(b, b"")  # its retained status cleared
    assert not central.take_batches
    central.note(b, _status(True, True))
    central.note("pagetally/v1/s1/dev-a/status", _status(True, True))  # not an instance
    central.forget()  # a new connection: the statuses come again
    assert not central.take_batches


def test_an_unreadable_instance_status_means_single_txns(
        caplog: pytest.LogCaptureFixture) -> None:
    central = CentralInstances()
    where = central_status_topic("central-a")
    central.note(where, _status(True, True))
    central.note(where, b'{"online": "yes"}')
    assert not central.take_batches
    assert "central instance central-a sent a status we cannot read" in caplog.text


@pytest.mark.parametrize(("data", "words"), [
    (b'{"request_id":"0190f0b4-0000-7000-8000-000000000001",'
     b'"since":"2026-11-30T08:00:00+01:00"}', "since must be in UTC"),
    (b'{"request_id":"x","since":"2026-11-30T08:00:00Z"}', "not a valid UUID"),
    (b'{"since":"2026-11-30T08:00:00Z"}', "missing required field 'request_id'"),
    (b"\x00", "the resend request is not valid JSON"),
])
def test_bad_resend_requests_are_refused_in_plain_words(data: bytes, words: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode_resend(data)
    assert words in str(caught.value)
    request = ResendRequest(uuid.uuid4(), NOW)
    assert decode_resend(encode(request)) == request
