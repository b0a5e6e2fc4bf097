"""Contract v1.1 over a real Mosquitto and `pagetally central serve`: a device that announces
`ack_batch` in its status gets AckBatch messages; a v1 device still gets one ack per txn."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import paho.mqtt.client as mqtt

from contract import (
    AckBatch,
    AckPayload,
    StatusPayload,
    decode_ack,
    decode_acks,
    encode,
    topic,
)
from tests.central.conftest import START_BALANCE, CentralRunner
from tests.central.mqtt_client import Device, make_txn
from tests.mosquitto import Mosquitto

BURST = 200


class RawAckDevice(Device):
    """A device client that keeps every ack message as it came, in either form."""

    def __init__(self, broker: Mosquitto, device: str, *, ack_batch: bool | None) -> None:
        self.messages: list[bytes] = []
        super().__init__(broker, device)
        if ack_batch is not None:  # None: a v1 device, which never says anything about it
            self.announce(ack_batch)

    def announce(self, ack_batch: bool) -> None:
        status = StatusPayload(True, "test", dt.datetime.now(dt.UTC), ack_batch=ack_batch)
        self.client.publish(topic(self.site, self.device, "status"), encode(status), qos=1,
                            retain=True).wait_for_publish(5)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if not msg.topic.endswith("/ack"):
            return
        with self._cond:
            self.messages.append(bytes(msg.payload))
            for ack in decode_acks(msg.payload):
                self.acks.setdefault(str(ack.txn_id), []).append(ack)
            self._cond.notify_all()


def _burst(device: Device, user: str) -> list[str]:
    return [device.send(make_txn(user, -1, device=device.device)) for _ in range(BURST)]


def test_v11_device_gets_batches_and_v1_device_gets_one_ack_per_txn(
        central: CentralRunner, broker: Mosquitto) -> None:
    new = RawAckDevice(broker, "dev-a", ack_batch=True)
    old = RawAckDevice(broker, "dev-b", ack_batch=None)
    try:
        new_ids, old_ids = _burst(new, "alice"), _burst(old, "bob")
        new_acks, old_acks = new.wait_acks(new_ids), old.wait_acks(old_ids)
        # v1.1: only batches, each txn acked once, in fewer messages than txns
        assert all(m.startswith(b'{"acks":') for m in new.messages)
        batches = [msgspec.json.decode(m, type=AckBatch) for m in new.messages]
        assert sorted(str(a.txn_id) for b in batches for a in b.acks) == sorted(new_ids)
        assert len(new.messages) < BURST
        # v1: exactly one plain AckPayload per txn, each a valid v1 message
        assert len(old.messages) == BURST
        assert sorted(str(decode_ack(m).txn_id) for m in old.messages) == sorted(old_ids)
        # balances: applied in order, the last ack of each carries the final balance
        assert {a.status for a in [*new_acks.values(), *old_acks.values()]} == {"applied"}
        assert min(a.balance for a in new_acks.values()) == START_BALANCE - BURST
        assert central.balance("alice") == START_BALANCE - BURST
        assert central.balance("bob") == START_BALANCE - BURST
    finally:
        new.close()
        old.close()


def test_a_device_that_takes_back_ack_batch_or_sends_a_bad_status_gets_v1_acks(
        central: CentralRunner, broker: Mosquitto) -> None:
    device = RawAckDevice(broker, "dev-a", ack_batch=True)
    try:
        first = _burst(device, "alice")
        device.wait_acks(first)
        assert all(m.startswith(b'{"acks":') for m in device.messages)
        device.announce(False)  # a downgrade to a v1 agent
        device.messages.clear()
        second = _burst(device, "alice")
        device.wait_acks(second)
        assert len(device.messages) == BURST
        assert all(isinstance(decode_ack(m), AckPayload) for m in device.messages)
        device.announce(True)
        device.client.publish(topic("s1", "dev-a", "status"), b"{not json", qos=1,
                              retain=True).wait_for_publish(5)
        device.messages.clear()
        third = [device.send(make_txn("alice", -1)) for _ in range(20)]
        device.wait_acks(third)
        assert len(device.messages) == 20
        assert [decode_ack(m).status for m in device.messages] == ["applied"] * 20
        assert "sent a status we cannot read" in central.output()
        assert central.balance("alice") == START_BALANCE - 2 * BURST - 20
    finally:
        device.close()
