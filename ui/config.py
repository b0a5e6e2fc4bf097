"""Panel settings: the `[panel]` section of the agent config, optionally a panel config file.

The panel reads only what it needs to draw: the agent's socket (`[api] socket`), the portal
URL for the QR code, which parts of the screens the site hides, and colour overrides.
Other sections of the agent config are the agent's business and are ignored here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec

from ui.theme import Colours

DEFAULT_SOCKET = "/run/pagetally/agent.sock"

# Parts a site may hide; a hidden key also hides everything under it ("account" hides all).
HIDEABLE = (
    "account",
    "account.balance",
    "account.transactions",
    *(f"account.transactions.{c}" for c in (
        "date", "transacted_by", "type", "system_note", "comment", "amount_text",
        "balance_text")),
    "idle.learn",
    "idle.devices",
    "jobs.delete",
)


class ConfigError(Exception):
    """A panel config that cannot be used, with the reason in plain words."""


class PanelSection(msgspec.Struct, kw_only=True):
    hidden: list[str] = []
    portal_url: str = ""
    theme: dict[str, str] = {}
    idle_message: str = ""


class PanelConfig(msgspec.Struct, kw_only=True):
    socket: str = DEFAULT_SOCKET
    panel: PanelSection = msgspec.field(default_factory=PanelSection)

    def is_hidden(self, key: str) -> bool:
        """True when the key, or a part that contains it, is in `[panel] hidden`."""
        parts = key.split(".")
        return any(".".join(parts[:i]) in self.panel.hidden for i in range(1, len(parts) + 1))

    def colours(self) -> Colours:
        return Colours.with_overrides(self.panel.theme)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text: {exc.reason} "
                          f"at byte {exc.start}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def load_config(agent_config: Path | None = None, panel_config: Path | None = None,
                socket: str | None = None) -> PanelConfig:
    """Merge agent config, then panel config file (its `[panel]` wins), then `--socket`."""
    section: dict[str, object] = {}
    socket_path = DEFAULT_SOCKET
    for path in (p for p in (agent_config, panel_config) if p is not None):
        data = _read_toml(path)
        api = data.get("api")
        if isinstance(api, dict) and isinstance(api.get("socket"), str):
            socket_path = api["socket"]
        panel = data.get("panel")
        if isinstance(panel, dict):
            section.update(panel)
    if socket:
        socket_path = socket
    try:
        config = msgspec.convert({"socket": socket_path, "panel": section}, PanelConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"[panel] settings are not valid: {exc}") from exc
    unknown = [key for key in config.panel.hidden if key not in HIDEABLE]
    if unknown:
        raise ConfigError(f"[panel] hidden has unknown part(s): {', '.join(unknown)}; "
                          f"known parts: {', '.join(HIDEABLE)}")
    try:
        config.colours()
    except ValueError as exc:
        raise ConfigError(f"[panel.theme] {exc}") from exc
    return config
