"""The demo's cast and setting: two users, a price list, and the agent's config file.

Money is integer minor units here, as everywhere; agent.toml takes major units as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.identity.accounts import hash_secret
from agent.money import format_money

DEVICE_ID = "demo-mfd"
SITE = "demo"
CURRENCY = "EUR"
PRICE_MONO = 10   # per impression
PRICE_COLOR = 50


@dataclass(frozen=True)
class DemoUser:
    name: str
    display_name: str
    balance: int
    code: str


USERS = (
    DemoUser("alice", "Alice Example", 1000, "246810"),
    DemoUser("bob", "Bob Example", 200, "135790"),
)


def user(name: str) -> DemoUser:
    return next(u for u in USERS if u.name == name)


def money(minor: int) -> str:
    return format_money(minor, CURRENCY)


@dataclass(frozen=True)
class MqttSettings:
    port: int
    password_file: Path
    portal_url: str = ""


def accounts_toml() -> str:
    """Standalone mode's accounts file: balances in minor units, codes only as argon2 hashes."""
    return "\n".join(
        f'[users.{u.name}]\ndisplay_name = "{u.display_name}"\nbalance = {u.balance}\n'
        f'access_code_hash = "{hash_secret(u.code)}"\n' for u in USERS)


def agent_toml(workdir: Path, ipp_uri: str, snmp_port: int, mqtt: MqttSettings | None,
               board_port: str) -> str:
    """agent.toml for the simulator; accounts on central when `mqtt` is given, else a file.
    The copier board is the simulator's, on its pty."""
    if mqtt is None:
        accounts = '[accounts]\nfile = "accounts.toml"\n'
    else:
        accounts = (f'[mqtt]\nhost = "127.0.0.1"\nport = {mqtt.port}\nusername = "{DEVICE_ID}"\n'
                    f'password_file = "{mqtt.password_file}"\nreconnect_max_s = 2.0\n'
                    'resend_after_s = 3.0\n')
    return f"""\
# Written by `pagetally demo`; see docs/config.md for every key.
[device]
id = "{DEVICE_ID}"
site = "{SITE}"
name = "Demo MFD (simulated)"
currency = "{CURRENCY}"

[printer]
ipp_uri = "{ipp_uri}"
snmp_host = "127.0.0.1"
snmp_port = {snmp_port}
snmp_profile = "pagetally-sim"

[prices.media.default]
mono_simplex = "{money(PRICE_MONO)}"
color_simplex = "{money(PRICE_COLOR)}"

[ledger]
path = "{workdir / 'ledger.db'}"

[api]
socket = "{workdir / 'agent.sock'}"

{accounts}
[metering]
poll_interval_s = 0.1
idle_polls = 3
snmp_timeout_s = 0.5
snmp_retries = 1
status_interval_s = 1.0

[identity]
session_timeout_s = 300
offline_cache = "{workdir / 'offline-cache.json'}"

[copier]
board_port = "{board_port}"

[copier.prices]
mono = "{money(PRICE_MONO)}"
colour = "{money(PRICE_COLOR)}"
"""
