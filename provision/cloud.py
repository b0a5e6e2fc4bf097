"""cloud-init seed for one device: `user-data`, `network-config` and `meta-data`.

Raspberry Pi OS Trixie reads these three files from the boot partition on first boot.
Pure: every input (secrets, the token, the time) is passed in, so tests see exact output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from provision import agent_toml, udev
from provision.site import Device, Site

BOOT = "/boot/firmware"
PACKAGES = ["python3-venv", "overlayroot", "unattended-upgrades", "systemd-timesyncd",
            "libmtdev1", "libgbm1", "libegl1", "libgles2"]


@dataclass(frozen=True)
class SiteSecrets:
    """What the site file points to, read once: it goes into every device's seed."""

    enrol_password: str
    ca_pem: str = ""
    wifi_password: str = ""
    wheel_name: str = ""


@dataclass(frozen=True)
class Seed:
    device: str
    user_data: str
    network_config: str
    meta_data: str


def template(name: str) -> str:
    return resources.files("provision.templates").joinpath(name).read_text(encoding="utf-8")


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (file contents) as literal blocks, readable on the card."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _file(path: str, content: str, mode: str = "0644", defer: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path, "content": content, "owner": "root:root",
                             "permissions": mode}
    if defer:
        entry["defer"] = True
    return entry


def _firstboot_env(site: Site, device: Device) -> str:
    app = site.app
    return (f"APP_SOURCE={app.source}\nAPP_VERSION={app.version}\n"
            f"INDEX_URL={app.index_url}\nPANEL={1 if site.panel.enabled else 0}\n")


def _files(site: Site, device: Device, secrets: SiteSecrets, token: str) -> list[dict[str, Any]]:
    files = [
        _file("/etc/pagetally/agent.toml", agent_toml.render(site, device)),
        _file("/etc/pagetally/firstboot.env", _firstboot_env(site, device)),
        _file("/etc/pagetally/enrol.env", f"ENROL_USER={site.broker.enrol_user}\n"),
        _file("/etc/pagetally/enrol.token", token + "\n", "0600"),
        _file("/etc/pagetally/enrol.secret", secrets.enrol_password + "\n", "0600"),
        _file("/etc/udev/rules.d/70-pagetally.rules", udev.rules(device)),
        _file("/etc/systemd/journald.conf.d/50-pagetally.conf", template("journald.conf")),
        _file("/etc/apt/apt.conf.d/52pagetally-unattended",
              template("unattended-upgrades.conf")),
        _file("/usr/local/sbin/pagetally-firstboot", template("pagetally-firstboot.sh"), "0755"),
        _file("/usr/local/sbin/pagetally-upgrade", template("pagetally-upgrade.sh"), "0755"),
    ]
    if secrets.ca_pem:
        files.append(_file(agent_toml.CA_PATH, secrets.ca_pem))
    for unit in UNITS:
        files.append(_file(f"/etc/systemd/system/{unit}", template(unit)))
    return files


UNITS = ("pagetally-agent.service", "pagetally-panel.service", "pagetally-enrol.service",
         "pagetally-upgrade.service", "pagetally-upgrade.timer")


def hostname(device: Device) -> str:
    """Host names allow letters, digits and '-' only (RFC 1123)."""
    return re.sub(r"[^a-z0-9-]", "-", f"pagetally-{device.id}".lower())[:63]


def _panel_cmdline(site: Site) -> list[str]:
    """KMS/DRM panel rotation goes on the kernel command line (video=...,rotate=N)."""
    if site.panel.rotation == 0:
        return []
    return [f"sed -i '1s/$/ video=DSI-1:800x480@60,rotate={site.panel.rotation}/' "
            f"{BOOT}/cmdline.txt"]


def user_data(site: Site, device: Device, secrets: SiteSecrets, token: str) -> str:
    data: dict[str, Any] = {
        "hostname": hostname(device),
        "manage_etc_hosts": True,
        "timezone": site.site.timezone,
        "locale": site.site.locale,
        "keyboard": {"layout": site.site.keyboard},
        "users": [
            {"name": "pagetally", "system": True, "shell": "/usr/sbin/nologin",
             "groups": ["dialout", "input"], "lock_passwd": True, "no_create_home": True},
            {"name": "pagetally-panel", "system": True, "shell": "/usr/sbin/nologin",
             "groups": ["pagetally", "video", "render", "input"], "lock_passwd": True,
             "no_create_home": True},
        ],
        "ssh_pwauth": False,
        "rpi": {"interfaces": {"serial": {"console": False, "hardware": True}}},
        "ntp": {"enabled": True, "ntp_client": "systemd-timesyncd",
                "servers": site.site.ntp_servers or ["pool.ntp.org"]},
        "package_update": True,
        "packages": PACKAGES,
        "write_files": _files(site, device, secrets, token),
        "runcmd": [*_panel_cmdline(site), ["/usr/local/sbin/pagetally-firstboot"]],
        "power_state": {"mode": "reboot", "message": "PageTally first boot done; rebooting",
                        "condition": True},
    }
    keys = site.admin.ssh_authorized_keys
    if keys:
        data["users"].append({"name": "technician", "groups": ["sudo"], "shell": "/bin/bash",
                              "lock_passwd": True, "sudo": "ALL=(ALL) NOPASSWD:ALL",
                              "ssh_authorized_keys": keys})
        data["runcmd"].insert(0, ["systemctl", "enable", "--now", "ssh"])
    return "#cloud-config\n" + _yaml(data)


def network_config(site: Site, secrets: SiteSecrets) -> str:
    net: dict[str, Any] = {"version": 2}
    if site.network.ethernet == "dhcp":
        net["ethernets"] = {"eth0": {"dhcp4": True, "dhcp6": True,
                                     "optional": bool(site.network.wifi_ssid)}}
    if site.network.wifi_ssid:
        net["wifis"] = {"wlan0": {
            "dhcp4": True, "dhcp6": True, "regulatory-domain": site.network.wifi_country,
            "access-points": {site.network.wifi_ssid: {"password": secrets.wifi_password}},
        }}
    return _yaml({"network": net})


def meta_data(site: Site, device: Device, instance: str) -> str:
    """A new instance-id per provisioning run: cloud-init runs again on a re-seeded card."""
    return _yaml({"instance-id": f"pagetally-{site.site.id}-{device.id}-{instance}",
                  "local-hostname": hostname(device)})


def seed(site: Site, device: Device, secrets: SiteSecrets, token: str, instance: str) -> Seed:
    return Seed(device.id, user_data(site, device, secrets, token),
                network_config(site, secrets), meta_data(site, device, instance))
