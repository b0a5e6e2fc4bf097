"""Contract v1.1's AckBatch: both ack forms decode, bad ones fail in plain words, and central's
grouping sends one batch per announcing device and one ack per txn to everyone else."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.acks import DeviceFeatures, group_acks
from contract import (
    MAX_ACK_BATCH,
    AckBatch,
    AckPayload,
    ContractError,
    StatusPayload,
    decode_ack,
    decode_acks,
    decode_status,
    encode,
    topic,
)

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


def ack(balance: int = 100, status: str = "applied") -> AckPayload:
    return AckPayload(uuid.uuid4(), status, balance)  # type: ignore[arg-type]


def test_a_v11_agent_reads_both_forms() -> None:
    one = ack()
    many = [ack(1), ack(2, "duplicate"), AckPayload(uuid.uuid4(), "rejected", 0, "no such user")]
    assert decode_acks(encode(one)) == [one]
    assert decode_acks(encode(AckBatch(many))) == many
    assert encode(AckBatch([one])).startswith(b'{"acks":[{"txn_id":')


@pytest.mark.parametrize(("data", "words"), [
    (b'{"acks":[]}', "the ack batch is invalid: expected a list of length >= 1"),
    (b'{"acks":[{"txn_id":1,"status":"applied","balance":1}]}',
     "the ack batch is invalid: expected a UUID, got a whole number (at field"
     " 'acks[0].txn_id')"),
    (b'{"acks":[{"txn_id":"0190f0b4-0000-7000-8000-000000000001","status":"applied",'
     b'"balance":1.5}]}', "expected a whole number, got a decimal number"),
    (b'{"acks":"all"}', "the ack batch is invalid: expected a list, got text"),
    (b'{"txn_id":"x","status":"applied","balance":1}',
     "the ack payload is invalid: not a valid UUID (at field 'txn_id')"),
    (b'\xff\xfe', "the ack payload is not valid JSON"),
    (b"[]", "the ack payload is invalid: expected a JSON object, got a list"),
])
def test_bad_ack_messages_are_refused_in_plain_words(data: bytes, words: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode_acks(data)
    assert words in str(caught.value)


def test_a_batch_larger_than_the_limit_is_refused() -> None:
    data = encode(AckBatch([ack()] * MAX_ACK_BATCH))
    assert len(decode_acks(data)) == MAX_ACK_BATCH
    too_many = msgspec.json.encode({"acks": [msgspec.to_builtins(ack())] * (MAX_ACK_BATCH + 1)})
    with pytest.raises(ContractError, match=f"length <= {MAX_ACK_BATCH}"):
        decode_acks(too_many)


def test_a_v1_decoder_refuses_a_batch_so_v1_devices_must_never_get_one() -> None:
    with pytest.raises(ContractError, match="unknown field 'acks'"):
        decode_ack(encode(AckBatch([ack()])))


def test_status_announces_ack_batch_and_v1_status_means_no() -> None:
    v11 = StatusPayload(True, "1.0", NOW, ack_batch=True)
    assert b'"ack_batch":true' in encode(v11)
    assert decode_status(encode(v11)).ack_batch is True
    v1 = b'{"online":true,"version":"0.9","since":"2025-03-01T09:30:00Z"}'
    assert decode_status(v1).ack_batch is False
    assert b"ack_batch" not in encode(StatusPayload(True, "1.0", NOW))


@given(st.binary(max_size=400))
def test_any_bytes_give_acks_or_a_contract_error(data: bytes) -> None:
    try:
        acks = decode_acks(data)
    except ContractError as exc:
        assert str(exc).startswith(("the ack payload ", "the ack batch "))
        return
    assert acks and all(isinstance(a, AckPayload) and isinstance(a.balance, int) for a in acks)


entry = st.fixed_dictionaries({
    "txn_id": st.one_of(st.uuids().map(str), st.text(max_size=5), st.integers()),
    "status": st.sampled_from(["applied", "duplicate", "rejected", "lost"]),
    "balance": st.one_of(st.integers(min_value=-10**13, max_value=10**13), st.floats()),
})


@given(st.lists(entry, max_size=5), st.booleans())
def test_json_that_is_almost_a_batch_never_crashes(entries: list[dict[str, object]],
                                                    extra: bool) -> None:
    body: dict[str, object] = {"acks": entries}
    if extra:
        body["x"] = 1
    try:
        acks = decode_acks(msgspec.json.encode(body))
    except ContractError as exc:
        assert "the ack batch" in str(exc)
        return
    assert len(acks) == len(entries) and not extra


def _features(*batching: tuple[str, str]) -> DeviceFeatures:
    features = DeviceFeatures()
    for site, device in batching:
        features.note_status(topic(site, device, "status"),
                             encode(StatusPayload(True, "1", NOW, ack_batch=True)))
    return features


def test_group_acks_batches_per_announcing_device_and_singles_for_the_rest() -> None:
    features = _features(("s1", "new"), ("s2", "new"))
    acks = [("s1", "new", ack(1)), ("s1", "old", ack(2)), ("s2", "new", ack(3)),
            ("s1", "new", ack(4)), ("s1", "old", ack(5))]
    out = group_acks(acks, features)
    by_topic = {(m.topic, m.answers) for m in out}
    assert by_topic == {(topic("s1", "old", "ack"), (1,)), (topic("s1", "old", "ack"), (4,)),
                        (topic("s1", "new", "ack"), (0, 3)), (topic("s2", "new", "ack"), (2,))}
    for message in out:  # each message carries exactly the acks of the positions it names
        assert decode_acks(message.payload) == [acks[i][2] for i in message.answers]
        if message.topic.endswith("/old/ack"):
            decode_ack(message.payload)  # a v1 device can read it


def test_group_acks_splits_at_the_batch_limit() -> None:
    features = _features(("s1", "new"))
    acks = [("s1", "new", ack(i)) for i in range(2 * MAX_ACK_BATCH + 1)]
    out = group_acks(acks, features)
    assert [len(m.answers) for m in out] == [MAX_ACK_BATCH, MAX_ACK_BATCH, 1]
    assert [i for m in out for i in m.answers] == list(range(len(acks)))


def test_features_follow_the_latest_status_and_ignore_central_and_garbage() -> None:
    features = _features(("s1", "dev"))
    assert features.batches("s1", "dev")
    features.note_status(topic("s1", "dev", "status"), b"")  # retained status cleared
    assert not features.batches("s1", "dev")
    features = _features(("s1", "dev"))
    features.note_status(topic("s1", "dev", "status"), b'{"online": 1}')
    assert not features.batches("s1", "dev")
    features.note_status("pagetally/v1/_central/c1/status",
                         encode(StatusPayload(True, "1", NOW, ack_batch=True)))
    assert not features.batches("_central", "c1")
    features.note_status("not/a/contract/topic", b"{}")  # ignored, no error
