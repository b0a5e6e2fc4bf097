"""The agent's `/etc/pagetally/agent.toml` for one device of a site."""

from __future__ import annotations

from typing import Any

import tomlkit

from provision.site import Device, Site
from provision.udev import reader_path

DATA = "/data/pagetally"
CA_PATH = "/etc/pagetally/ca.pem"


def agent_config(site: Site, device: Device) -> dict[str, Any]:
    """As a dict, so tests can feed it to the agent's own config checks."""
    mqtt: dict[str, Any] = {
        "host": site.broker.host, "port": site.broker.port, "tls": site.broker.tls,
        "username": device.id, "password_file": f"{DATA}/mqtt.secret",
    }
    if site.broker.ca_file:
        mqtt["ca_file"] = CA_PATH
    config: dict[str, Any] = {
        "device": {"id": device.id, "site": site.site.id, "name": device.name or device.id,
                   "currency": site.site.currency},
        "printer": {"ipp_uri": device.printer, "snmp_community": device.snmp_community},
        "ledger": {"path": f"{DATA}/ledger.db"},
        "api": {"socket": "/run/pagetally/agent.sock"},
        "mqtt": mqtt,
        "identity": {"offline_cache": f"{DATA}/offline-cache.json"},
    }
    if site.prices:
        config["prices"] = site.prices
    readers = []
    for r in device.readers:
        entry: dict[str, Any] = {"name": r.name, "kind": r.kind, "path": reader_path(r.name)}
        if r.conversions:
            entry["conversions"] = r.conversions
        if r.framing:
            entry["framing"] = r.framing
        readers.append(entry)
    if readers:
        config["readers"] = readers
    return config


def render(site: Site, device: Device) -> str:
    head = (f"# PageTally agent for {device.id} at {site.site.id}, "
            "written by `pagetally provision`.\n")
    return head + tomlkit.dumps(agent_config(site, device))
