"""Site file + device list → one seed folder per device (and, given a base image, one
ready image per device), plus the token digests central imports."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from provision import cloud, image, site, tokens
from provision.errors import ProvisionError


@dataclass(frozen=True)
class Built:
    seeds: list[Path]
    images: list[Path]
    tokens_file: Path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise ProvisionError(f"{path}: not UTF-8 text") from None


def read_secrets(s: site.Site) -> cloud.SiteSecrets:
    ca = _read_text(site.site_file(s, s.broker.ca_file)) + "\n" if s.broker.ca_file else ""
    if ca and "BEGIN CERTIFICATE" not in ca:
        raise ProvisionError(f"[broker] ca_file: {s.broker.ca_file} holds no PEM certificate")
    wifi = (_read_text(site.site_file(s, s.network.wifi_password_file))
            if s.network.wifi_password_file else "")
    wheel = site.site_file(s, s.app.wheel).name if s.app.source == "wheel" else ""
    if wheel and not (wheel.startswith("pagetally-") and wheel.endswith(".whl")):
        raise ProvisionError(f"[app] wheel: expected a pagetally-*.whl file, got {wheel!r}")
    return cloud.SiteSecrets(
        enrol_password=_read_text(site.site_file(s, s.broker.enrol_password_file)),
        ca_pem=ca, wifi_password=wifi, wheel_name=wheel)


def boot_files(seed: cloud.Seed, s: site.Site) -> dict[str, bytes]:
    """Everything that goes onto one device's boot partition, by path there."""
    files = {"user-data": seed.user_data.encode(), "network-config": seed.network_config.encode(),
             "meta-data": seed.meta_data.encode()}
    if s.app.source == "wheel":
        wheel = site.site_file(s, s.app.wheel)
        files[f"pagetally/{wheel.name}"] = wheel.read_bytes()
    return files


def _write_private(folder: Path, files: dict[str, bytes]) -> None:
    """Seeds hold the enrolment token and the Wi-Fi password: owner-only."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)


def build(site_path: Path, devices_path: Path, out: Path, base_image: Path | None = None,
          data_mb: int = 1024, now: dt.datetime | None = None) -> Built:
    s = site.load_site(site_path)
    devices = site.load_devices(devices_path)
    secrets = read_secrets(s)
    if base_image is not None:
        image.boot_partition(base_image)  # an unknown image fails before any work
    now = now or dt.datetime.now(dt.UTC)
    instance = now.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    seeds, images, records = [], [], []
    for dev in devices:
        token = tokens.new_token(s.site.id, dev.id, now, s.enrol.token_ttl_hours)
        seed = cloud.seed(s, dev, secrets, token.plain, instance)
        files = boot_files(seed, s)
        folder = out / dev.id
        _write_private(folder, files)
        seeds.append(folder)
        records.append(token.record())
        if base_image is not None:
            img = out / f"{dev.id}.img"
            image.copy_image(base_image, img)
            image.add_data_partition(img, data_mb)
            image.write_to_image(img, files)
            images.append(img)
    tokens_file = out / "enrol-tokens.jsonl"
    _write_private(out, {tokens_file.name: ("\n".join(records) + "\n").encode()})
    return Built(seeds, images, tokens_file)


def seed_files(folder: Path) -> dict[str, bytes]:
    """A seed folder made by `build`, read back for `pagetally provision write`."""
    needed = ("user-data", "network-config", "meta-data")
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise ProvisionError(f"{folder}: not a seed folder (missing {', '.join(missing)}); "
                             "make one with `pagetally provision site`")
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}
