"""Which membership source the site uses, kept as settings in the ledger (no secrets there).

OfficeRnD's client secret stays in a file (mode 0600, like the MQTT password); the ledger
holds only the file's path.
"""

from __future__ import annotations

import json
from pathlib import Path

from central.members.file_source import FileSource
from central.members.officernd import OfficeRnD, OfficeRnDSettings
from central.members.source import MembershipError, MembershipSource
from central.storage.base import Ledger

SOURCE_SETTING = "membership.source"


def set_officernd(ledger: Ledger, org: str, client_id: str, secret_file: Path,
                  api_url: str | None = None, identity_url: str | None = None,
                  attempts: int | None = None) -> None:
    """`attempts`: how often one request is tried before the run gives up (default 6)."""
    if not secret_file.is_file():
        raise MembershipError(f"there is no secret file {secret_file}")
    config: dict[str, str | int] = {"kind": "officernd", "org": org, "client_id": client_id,
              "secret_file": str(secret_file.resolve())}
    if api_url:
        config["api_url"] = api_url
    if identity_url:
        config["identity_url"] = identity_url
    if attempts:
        config["attempts"] = attempts
    ledger.set_setting(SOURCE_SETTING, json.dumps(config))


def set_file(ledger: Ledger, members: Path, fees: Path) -> None:
    ledger.set_setting(SOURCE_SETTING, json.dumps({
        "kind": "file", "members": str(members.resolve()), "fees": str(fees.resolve())}))


def describe(ledger: Ledger) -> str:
    text = ledger.get_setting(SOURCE_SETTING)
    if not text:
        return "no membership source is set"
    config = json.loads(text)
    if config["kind"] == "file":
        return f"file {config['members']} (fees to {config['fees']})"
    return (f"OfficeRnD organisation {config['org']}, client id {config['client_id']},"
            f" secret in {config['secret_file']}")


def open_source(ledger: Ledger) -> MembershipSource | None:
    text = ledger.get_setting(SOURCE_SETTING)
    if not text:
        return None
    config = json.loads(text)
    if config["kind"] == "file":
        return FileSource(Path(config["members"]), Path(config["fees"]))
    try:
        secret = Path(config["secret_file"]).read_text().strip()
    except OSError as exc:
        raise MembershipError(f"cannot read OfficeRnD's client secret from"
                              f" {config['secret_file']}: {exc.strerror}") from None
    extra = {k: config[k] for k in ("api_url", "identity_url", "attempts") if k in config}
    return OfficeRnD(OfficeRnDSettings(config["org"], config["client_id"], secret, **extra))
