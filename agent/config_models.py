"""Typed sections of the agent's `agent.toml` and of the standalone accounts file.

Every key has a sane default except what must be site-specific ([device] id and site,
[printer] ipp_uri). Checks that span keys live in `__post_init__` and name the keys, so the
loader can prefix the file and section. docs/config.md documents each key.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

from agent.money import MoneyError, exponent
from agent.pricing import PriceTable
from drivers.ipp.tls import parse_fingerprint

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
Count = Annotated[int, msgspec.Meta(ge=1)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]

# Names that go into MQTT topics and file names: no '/', '+', '#' or spaces.
_TOPIC_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every section: unknown keys are typos, so they are errors."""


class DeviceConfig(Section, frozen=True):
    id: str
    site: str
    name: str = ""
    currency: str = "EUR"

    def __post_init__(self) -> None:
        for key in ("id", "site"):
            if not _TOPIC_SAFE.fullmatch(getattr(self, key)):
                raise ValueError(
                    f"{key} must be 1-64 letters, digits, '.', '_' or '-' (it is used in "
                    f"MQTT topics), got {getattr(self, key)!r}"
                )
        try:
            exponent(self.currency)
        except MoneyError as exc:
            raise ValueError(f"currency: {exc}") from exc

    @property
    def display_name(self) -> str:
        return self.name or self.id


class PrinterConfig(Section, frozen=True):
    ipp_uri: str
    snmp_host: str = ""
    snmp_port: Port = 161
    snmp_community: str = "public"
    snmp_profile: str = "generic"
    hold_source: Literal["device", "cups"] = "device"
    hold_uri: str = ""
    tls_fingerprint: str = ""
    max_document_mb: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 64
    document_timeout_s: Seconds = 30.0
    hold_expiry_s: Annotated[float, msgspec.Meta(ge=0)] = 14400.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.ipp_uri)
        if parts.scheme not in ("ipp", "ipps", "http", "https") or not parts.hostname:
            raise ValueError(
                f"ipp_uri must look like 'ipp://printer.example/ipp/print', got {self.ipp_uri!r}"
            )
        if self.tls_fingerprint:
            if parts.scheme not in ("ipps", "https"):
                raise ValueError("tls_fingerprint pins the certificate of an ipps:// printer, "
                                 f"but ipp_uri is {self.ipp_uri!r}")
            try:
                parse_fingerprint(self.tls_fingerprint)
            except ValueError as exc:
                raise ValueError(f"tls_fingerprint: {exc}") from None
        if not self.snmp_host:
            msgspec.structs.force_setattr(self, "snmp_host", parts.hostname)
        if self.hold_source == "cups" and not self.hold_uri:
            raise ValueError("hold_uri is required when hold_source is 'cups' (the CUPS queue)")


class LedgerConfig(Section, frozen=True):
    path: str = "/var/lib/pagetally/ledger.db"


class ApiConfig(Section, frozen=True):
    socket: str = "/run/pagetally/agent.sock"


class AccountsConfig(Section, frozen=True):
    file: str = ""


class MeteringConfig(Section, frozen=True):
    poll_interval_s: Seconds = 0.2
    idle_polls: Count = 3
    settle_timeout_s: Seconds = 120.0
    stall_timeout_s: Seconds = 600.0
    refused_tries: Count = 3
    give_up_after_s: Seconds = 600.0
    snmp_timeout_s: Seconds = 2.0
    snmp_retries: NonNegative = 1
    ipp_timeout_s: Seconds = 10.0
    status_interval_s: Seconds = 2.0


class MqttConfig(Section, frozen=True):
    host: str = ""
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    username: str = ""
    password_file: str = ""
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    client_id: str = ""
    keepalive_s: Count = 30
    request_timeout_s: Seconds = 3.0
    reconnect_min_s: Seconds = 0.2
    reconnect_max_s: Seconds = 30.0
    resend_after_s: Seconds = 10.0
    outbox_window: Count = 2000
    """Four of central's commits (500 txns each by default): central applies the next
    while the agent records the acks of the last, so a backlog does not wait on each round
    trip (bench/sync.py; figures in docs/scaling.md)."""

    def __post_init__(self) -> None:
        if self.port == 0:
            msgspec.structs.force_setattr(self, "port", 8883 if self.tls else 1883)
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together: set both or neither")
        if (self.ca_file or self.cert_file) and not self.tls:
            raise ValueError("ca_file and cert_file need tls = true")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be less than reconnect_min_s")


class IdentityConfig(Section, frozen=True):
    code_min_length: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4
    code_max_length: Annotated[int, msgspec.Meta(ge=1, le=64)] = 12
    code_digits_only: bool = True
    max_attempts_per_minute: Count = 5
    free_failures: NonNegative = 3
    backoff_max_s: Seconds = 300.0
    auth_timeout_s: Seconds = 3.0
    session_timeout_s: Seconds = 60.0
    card_pin: bool = False
    offline_credit: NonNegative = 0
    offline_cache: str = "/var/lib/pagetally/offline-cache.json"
    offline_cache_max_users: Count = 100
    offline_cache_max_age_s: Seconds = 7 * 86400.0

    def __post_init__(self) -> None:
        if self.code_max_length < self.code_min_length:
            raise ValueError("code_max_length must not be less than code_min_length")


class PanelConfig(Section, frozen=True):
    """The agent's view of [panel]; the panel (ui/config.py) checks `hidden` names and colours."""

    hidden: list[str] = []
    portal_url: str = ""
    theme: dict[str, str] = {}
    idle_message: str = ""


CopyKind = Literal["mono", "colour", "mono_large", "colour_large"]
Price = Annotated[int, msgspec.Meta(ge=0, le=65535)]  # the board's page weight is a u16


class CopyPrices(Section, frozen=True):
    """The price of one copied page per kind; a missing one falls back: colour to mono,
    mono_large to mono, colour_large to colour."""

    mono: Price = 0
    colour: Price | None = None
    mono_large: Price | None = None
    colour_large: Price | None = None

    def table(self) -> dict[str, int]:
        colour = self.mono if self.colour is None else self.colour
        return {"mono": self.mono, "colour": colour,
                "mono_large": self.mono if self.mono_large is None else self.mono_large,
                "colour_large": colour if self.colour_large is None else self.colour_large}


class CopyChannel(Section, frozen=True):
    """One counting channel of the copier board: which input counts which kind of page."""

    channel: Annotated[int, msgspec.Meta(ge=0, le=3)]
    pin: Annotated[int, msgspec.Meta(ge=0, le=3)]
    kind: CopyKind = "mono"
    pulses_per_page: Annotated[int, msgspec.Meta(ge=1, le=255)] = 1
    min_pulse_ms: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 30
    active_low: bool = False


TRACKING = ("board", "counters", "off")


class CopierConfig(Section, frozen=True):
    board_port: str = ""
    tracking: str = ""
    """How copies are metered: "board" (the interface board enforces them; the default
    with board_port), "counters" (no board: the device's counters alone, not enforced) or
    "off" (no copy sessions; the default without board_port)."""
    lease_s: Annotated[float, msgspec.Meta(ge=0.5, le=600)] = 6.0
    idle_timeout_s: Seconds = 60.0
    settle_wait_s: Seconds = 60.0
    channels: list[CopyChannel] = msgspec.field(default_factory=lambda: [
        CopyChannel(channel=0, pin=0, kind="mono"), CopyChannel(channel=1, pin=1, kind="colour")])
    prices: CopyPrices = CopyPrices()

    def __post_init__(self) -> None:
        for what in ("channel", "pin"):
            used = [getattr(c, what) for c in self.channels]
            if len(used) != len(set(used)):
                raise ValueError(f"two copier channels use the same {what}")
        if self.board_port and not self.channels:
            raise ValueError("channels: a copier board needs at least one counting channel")
        if not self.tracking:
            msgspec.structs.force_setattr(self, "tracking",
                                          "board" if self.board_port else "off")
        if self.tracking not in TRACKING:
            raise ValueError(f"tracking must be 'board', 'counters' or 'off', got "
                             f"{self.tracking!r}")
        if self.tracking == "board" and not self.board_port:
            raise ValueError("tracking = 'board' needs board_port, the copier board's "
                             "serial port; without a board use 'counters' or 'off'")
        if self.tracking != "board" and self.board_port:
            raise ValueError(f"tracking = {self.tracking!r} is for a device with no copier "
                             "board, but board_port is set: remove one of them")


class AgentConfig(Section, frozen=True):
    device: DeviceConfig
    printer: PrinterConfig
    prices: PriceTable = PriceTable()
    ledger: LedgerConfig = LedgerConfig()
    api: ApiConfig = ApiConfig()
    accounts: AccountsConfig = AccountsConfig()
    metering: MeteringConfig = MeteringConfig()
    mqtt: MqttConfig = MqttConfig()
    identity: IdentityConfig = IdentityConfig()
    panel: PanelConfig = PanelConfig()
    copier: CopierConfig = CopierConfig()
    readers: list[dict[str, Any]] = []  # checked by agent.identity.readers.parse_readers

    def __post_init__(self) -> None:
        if not self.mqtt.host and not self.accounts.file:
            raise ValueError(
                "nobody could log in: set [mqtt] host (accounts on central) "
                "or [accounts] file (standalone)"
            )
        if not self.mqtt.client_id:
            mqtt = msgspec.structs.replace(self.mqtt, client_id=f"pagetally-{self.device.id}")
            msgspec.structs.force_setattr(self, "mqtt", mqtt)

    @property
    def standalone(self) -> bool:
        """True when accounts come from the local file instead of central."""
        return not self.mqtt.host


