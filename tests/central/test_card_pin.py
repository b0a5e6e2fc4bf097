"""Card + PIN at central, over MQTT to `pagetally central serve`: the PIN is checked and
wrong PINs are counted per card across terminals."""

from __future__ import annotations

import msgspec
import pytest

from central import admin
from central.codes import CodeBook
from contract import AuthResponse, ContractError, decode_request
from tests.central.conftest import BOB_CARD, CentralRunner
from tests.central.mqtt_client import Device
from tests.mosquitto import Mosquitto

BOB_PIN = "4711"


def _auth(device: Device, card: str, pin: str) -> AuthResponse:
    response = device.rpc(msgspec.json.encode(
        {"method": "auth", "params": {"card": card, "pin": pin}}))
    assert isinstance(response, AuthResponse)
    return response


@pytest.fixture
def with_pin(central: CentralRunner) -> CentralRunner:
    ledger = central.ledger()
    admin.set_pin(ledger, CodeBook.from_file(central.db.secret), "bob", BOB_PIN)
    stored = ledger.pin_hash("bob")
    assert stored is not None and stored.startswith("$argon2id$") and BOB_PIN not in stored
    ledger.close()
    return central


def test_card_and_pin_sign_in_at_central(with_pin: CentralRunner, dev_a: Device) -> None:
    ok = _auth(dev_a, "00042a17", BOB_PIN)  # normalised like any card
    assert ok.result is not None and ok.result.username == "bob"
    wrong = _auth(dev_a, BOB_CARD, "1234")
    assert wrong.error is not None and (wrong.error.code, wrong.error.message) == (
        "wrong_pin", "That PIN is not right.")


def test_wrong_pins_lock_the_card_on_every_terminal(with_pin: CentralRunner, dev_a: Device,
                                                    broker: Mosquitto) -> None:
    for _ in range(3):  # the fixture's central locks after 3 failures
        assert _auth(dev_a, BOB_CARD, "0000").error.code == "wrong_pin"  # type: ignore[union-attr]
    dev_b = Device(broker, "dev-b")
    try:
        locked = _auth(dev_b, BOB_CARD, BOB_PIN)  # even the right PIN, elsewhere
        assert locked.error is not None and locked.error.code == "locked"
        assert locked.error.retry_after is not None and locked.error.retry_after > 0
        card_only = dev_b.rpc(msgspec.json.encode({"method": "auth",
                                                   "params": {"card": BOB_CARD}}))
        assert isinstance(card_only, AuthResponse) and card_only.result is not None
    finally:
        dev_b.close()


def test_a_card_without_a_pin_is_told_so(central: CentralRunner, dev_a: Device) -> None:
    answer = _auth(dev_a, BOB_CARD, "4711")
    assert answer.error is not None and answer.error.code == "wrong_pin"
    assert "No PIN is set" in answer.error.message


def test_a_pin_needs_a_card() -> None:
    with pytest.raises(ContractError, match="a 'pin' goes with a 'card'"):
        decode_request(b'{"method": "auth", "params": {"code": "1234", "pin": "1"}}')
