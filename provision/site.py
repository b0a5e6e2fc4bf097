"""The technician's input: a site file and a device list (TOML), checked into typed structs.

Unknown keys are errors (they are typos), and each error names the file and the key.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from provision.errors import SAFE_NAME, ProvisionError, plain

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Name = Annotated[str, msgspec.Meta(pattern=SAFE_NAME)]  # used in topics, host names, paths
UsbId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{4}$")]
_LOCALE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}\.UTF-8$")


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class SiteInfo(_Section, frozen=True, kw_only=True):
    id: Name
    name: str = ""
    timezone: str = "UTC"
    locale: str = "en_GB.UTF-8"
    keyboard: str = "gb"
    currency: str = "EUR"
    ntp_servers: list[str] = []


class Broker(_Section, frozen=True, kw_only=True):
    host: str
    port: Port = 8883
    tls: bool = True
    ca_file: str = ""  # PEM, embedded into each seed
    enrol_user: str = "enrol"
    enrol_password_file: str  # low-privilege shared account: may only ask to enrol


class Network(_Section, frozen=True, kw_only=True):
    ethernet: Literal["dhcp", "none"] = "dhcp"
    wifi_ssid: str = ""
    wifi_password_file: str = ""
    wifi_country: str = "GB"


class Panel(_Section, frozen=True, kw_only=True):
    rotation: Literal[0, 90, 180, 270] = 0
    enabled: bool = True


class App(_Section, frozen=True, kw_only=True):
    source: Literal["wheel", "index"] = "wheel"
    wheel: str = ""  # path of the pagetally wheel, copied onto the boot partition
    version: str = ""  # pin for source = "index"
    index_url: str = ""


class Enrol(_Section, frozen=True, kw_only=True):
    token_ttl_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 72


class Admin(_Section, frozen=True, kw_only=True):
    ssh_authorized_keys: list[str] = []  # empty: no SSH at all


class Site(_Section, frozen=True, kw_only=True):
    site: SiteInfo
    broker: Broker
    network: Network = Network()
    panel: Panel = Panel()
    app: App = App()
    enrol: Enrol = Enrol()
    admin: Admin = Admin()
    prices: dict[str, Any] = {}  # passed to agent.toml [prices]; the agent checks it
    folder: str = ""  # where the site file is: relative paths start there


class Reader(_Section, frozen=True, kw_only=True):
    name: Name
    kind: Literal["serial", "evdev"]
    usb_vendor: UsbId
    usb_product: UsbId
    conversions: list[str] = []
    framing: str = ""


class CopierBoard(_Section, frozen=True, kw_only=True):
    port: Literal["uart", "usb"] = "uart"
    usb_vendor: UsbId | None = None
    usb_product: UsbId | None = None


class Device(_Section, frozen=True, kw_only=True):
    id: Name
    name: str = ""
    printer: str  # ipp://host/ipp/print
    snmp_community: str = "public"
    readers: list[Reader] = []
    copier_board: CopierBoard | None = None


class DeviceList(_Section, frozen=True, kw_only=True):
    device: list[Device]


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvisionError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProvisionError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ProvisionError(f"{path}: not UTF-8 text") from None


def load_site(path: Path) -> Site:
    data = _read(path)
    try:
        site = msgspec.convert(data, Site)
    except msgspec.ValidationError as exc:
        raise ProvisionError(plain(str(path), str(exc))) from None
    _check_site(site, path)
    return msgspec.structs.replace(site, folder=str(path.resolve().parent))


def _check_site(site: Site, path: Path) -> None:
    try:
        zoneinfo.ZoneInfo(site.site.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ProvisionError(f"{path}: [site] timezone: unknown time zone "
                             f"{site.site.timezone!r} (expected e.g. 'Europe/Berlin')") from None
    if not _LOCALE.match(site.site.locale):
        raise ProvisionError(f"{path}: [site] locale: expected e.g. 'de_DE.UTF-8', "
                             f"got {site.site.locale!r}")
    if site.app.source == "wheel" and not site.app.wheel:
        raise ProvisionError(f"{path}: [app] wheel: required when source = \"wheel\" "
                             "(the pagetally .whl to put on the boot partition)")
    if site.network.wifi_ssid and not site.network.wifi_password_file:
        raise ProvisionError(f"{path}: [network] wifi_password_file: required with wifi_ssid")
    if site.network.ethernet == "none" and not site.network.wifi_ssid:
        raise ProvisionError(f"{path}: [network]: no ethernet and no wifi_ssid: the "
                             "device would have no network")
    if site.broker.tls is False and site.broker.ca_file:
        raise ProvisionError(f"{path}: [broker] ca_file: needs tls = true")


def load_devices(path: Path) -> list[Device]:
    data = _read(path)
    try:
        devices = msgspec.convert(data, DeviceList).device
    except msgspec.ValidationError as exc:
        raise ProvisionError(plain(str(path), str(exc))) from None
    seen: set[str] = set()
    for i, dev in enumerate(devices, 1):
        if dev.id in seen:
            raise ProvisionError(f"{path}: device #{i} id: {dev.id!r} is used twice")
        seen.add(dev.id)
        if not re.match(r"^(ipps?|https?)://[^/\s]+", dev.printer):
            raise ProvisionError(f"{path}: device #{i} printer: expected an address like "
                                 f"'ipp://10.0.0.21/ipp/print', got {dev.printer!r}")
        board = dev.copier_board
        if board and board.port == "usb" and not (board.usb_vendor and board.usb_product):
            raise ProvisionError(f"{path}: device #{i} copier_board: port = \"usb\" needs "
                                 "usb_vendor and usb_product")
    if not devices:
        raise ProvisionError(f"{path}: no [[device]] tables")
    return devices


def site_file(site: Site, name: str) -> Path:
    """A file named in the site file, relative to the site file's folder."""
    path = Path(site.folder, name)
    if not path.is_file():
        raise ProvisionError(f"site file names {name!r}, but {path} is not a file")
    return path
