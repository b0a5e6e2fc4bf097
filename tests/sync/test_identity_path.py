"""Reader → identity → central rpc over Mosquitto → session, with nothing mocked.

The simulator's serial card reader (a pty speaking RDM6300 frames) feeds the agent's reader
driver; the agent converts the number, asks central, and opens a session.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.api.client import ApiClient, ApiError
from central import admin
from central.codes import CodeBook
from central.storage.ledger import SqlLedger
from tests.agent_env import make_env
from tests.central.conftest import CentralRunner
from tests.mosquitto import Mosquitto
from tests.sync.conftest import DEVICE, SITE, SyncEnv, agent_mqtt, seed_central, stop_sync_env

ALICE_CARD_RAW = "0F00BC614E"  # what the RDM6300 sends
ALICE_CARD = "12345678"  # after the reader's conversions: last 8 hex digits, as decimal
READER = """
[[readers]]
name = "front-rfid"
kind = "serial"
path = "{path}"
framing = "stx-etx"
checksum = "xor-hex"
conversions = ["regex:^..(.{{8}})$", "hex2dec"]
"""


def sim_call(base: str, path: str, body: dict[str, str] | None = None) -> dict[str, str]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


@pytest.fixture
def reader_env(tmp_path: Path) -> Iterator[SyncEnv]:
    broker = Mosquitto(tmp_path / "broker", devices=(DEVICE,)).start()
    db = tmp_path / "ledger.db"
    seed_central(db)
    ledger = SqlLedger(db)
    admin.add_card(ledger, "alice", ALICE_CARD)
    ledger.close()
    central = CentralRunner(db, broker)
    central.start()
    agent = make_env(start=False, mqtt=agent_mqtt(broker), extra="auth_timeout_s = 2.0\n")
    serial = sim_call(agent.sim.control, "/sim/readers")["serial"]
    agent.config_text += READER.format(path=serial)
    agent.start_agent()
    env = SyncEnv(broker, central, agent)
    yield env
    stop_sync_env(env)


async def test_swipe_logs_in_and_unknown_card_is_linked_at_central(reader_env: SyncEnv) -> None:
    env = reader_env
    async with env.agent.client() as api:
        started = time.monotonic()
        sim_call(env.agent.sim.control, "/sim/swipe", {"card": ALICE_CARD_RAW,
                                                       "reader": "serial"})
        session = await api.next_notification("session", timeout=10)
        latency = time.monotonic() - started
        assert (session["user"], session["offline"], session["method"]) == ("alice", False,
                                                                             "card")
        print(f"swipe to session over pty + MQTT: {latency * 1000:.1f} ms")
        await api.call("session.logout")

        sim_call(env.agent.sim.control, "/sim/swipe", {"card": "00DEADBEEF",
                                                       "reader": "serial"})
        refused = await api.next_notification("login.refused", timeout=10)
        assert refused["kind"] == "needs-link-code"
        assert refused["message"] == ("This card is not known. Enter your access code to link "
                                      "this card.")
        linked = await api.call("session.login", {"code": "135790"})
        assert linked["user"] == "bob"

    ledger = env.central.ledger()
    try:
        owner = ledger.account_for_card(str(int("DEADBEEF", 16)))
        assert owner is not None and owner.username == "bob"
    finally:
        ledger.close()


async def test_guessing_codes_is_rate_limited_before_central(reader_env: SyncEnv) -> None:
    env = reader_env
    refusals: list[ApiError] = []
    async with env.agent.client() as api:
        for guess in range(100000, 100030):
            with pytest.raises(ApiError) as caught:
                await api.call("session.login", {"code": str(guess)})
            refusals.append(caught.value)
    locked = [e for e in refusals if e.kind == "locked"]
    assert len(locked) >= 25
    assert all(e.data["retry_after"] >= 1 for e in locked)
    assert "Too many attempts" in locked[-1].message
    ledger = env.central.ledger()
    try:
        seen = ledger.auth_failures(f"code-at:{SITE}/{DEVICE}", 0)
    finally:
        ledger.close()
    assert len(seen) <= 5  # central saw at most one minute's allowance of guesses
    log = env.agent.agent.output()  # type: ignore[union-attr]
    assert not any(str(g) in log for g in range(100000, 100030))  # codes never logged


async def swipe_for_pin(api: ApiClient) -> None:
    with pytest.raises(ApiError) as asked:
        await api.call("session.login", {"card": ALICE_CARD})
    assert (asked.value.kind, str(asked.value)) == ("needs-pin", "Enter your PIN.")


async def test_card_and_pin_through_central_and_offline(tmp_path: Path) -> None:
    """A swipe asks for the PIN; central checks it. Offline, the card with its PIN works
    (seen together before), the card with another PIN does not."""
    broker = Mosquitto(tmp_path / "broker", devices=(DEVICE,)).start()
    db = tmp_path / "ledger.db"
    seed_central(db)
    ledger = SqlLedger(db)
    admin.add_card(ledger, "alice", ALICE_CARD)
    admin.set_pin(ledger, CodeBook.from_file(db.with_name(db.name + ".secret")), "alice",
                  "2580")
    ledger.close()
    central = CentralRunner(db, broker)
    central.start()
    agent = make_env(start=False, mqtt=agent_mqtt(broker),
                     extra="auth_timeout_s = 1.0\ncard_pin = true\n")
    agent.start_agent()
    env = SyncEnv(broker, central, agent)
    try:
        async with env.agent.client() as api:
            await swipe_for_pin(api)
            with pytest.raises(ApiError, match="That PIN is not right"):
                await api.call("session.login", {"pin": "1111"})
            await swipe_for_pin(api)
            session = await api.call("session.login", {"pin": "2580"})
            assert (session["user"], session["method"], session["offline"]) == (
                "alice", "card+pin", False)
            await api.call("session.logout")
        assert central.child is not None
        central.child.stop()
        async with env.agent.client() as api:
            await swipe_for_pin(api)
            with pytest.raises(ApiError, match="not known on this device"):
                await api.call("session.login", {"pin": "9999"})
            await swipe_for_pin(api)
            offline = await api.call("session.login", {"pin": "2580"})
            assert (offline["user"], offline["offline"]) == ("alice", True)
    finally:
        stop_sync_env(env)
