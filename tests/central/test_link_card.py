"""Card self-association at central: an unknown card, then the user's code, links the card."""

from __future__ import annotations

import msgspec

from contract import AuthResponse, LinkCardResponse
from tests.central.conftest import ALICE_CODE, CentralRunner
from tests.central.mqtt_client import Device


def _link(device: Device, code: str, card: str) -> LinkCardResponse:
    response = device.rpc(msgspec.json.encode(
        {"method": "link_card", "params": {"code": code, "card": card}}))
    assert isinstance(response, LinkCardResponse)
    return response


def test_unknown_card_is_linked_by_the_users_code(central: CentralRunner, dev_a: Device) -> None:
    before = dev_a.rpc(msgspec.json.encode({"method": "auth", "params": {"card": "C0FFEE01"}}))
    assert isinstance(before, AuthResponse) and before.error is not None
    assert before.error.code == "unknown_card"
    linked = _link(dev_a, ALICE_CODE, "C0FFEE01")
    assert linked.result is not None and linked.result.username == "alice"
    after = dev_a.rpc(msgspec.json.encode({"method": "auth", "params": {"card": "c0ffee01"}}))
    assert isinstance(after, AuthResponse) and after.result is not None
    assert after.result.username == "alice"


def test_link_refuses_a_wrong_code_and_another_users_card(central: CentralRunner,
                                                          dev_a: Device) -> None:
    wrong = _link(dev_a, "000000", "C0FFEE02")
    assert wrong.error is not None and wrong.error.code == "wrong_code"
    taken = _link(dev_a, ALICE_CODE, "00:04:2a:17")  # bob's card
    assert taken.error is not None and taken.error.code == "card_taken"
    assert "another account" in taken.error.message
