"""A site folder like a technician's (example files + secrets) and a Raspberry Pi OS-like
image: an MBR made by sfdisk, a FAT32 boot partition made by mkfs.vfat with config.txt."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "raspberrypi" / "example"
CA = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----\n"
BOOT_START, BOOT_SECTORS, ROOT_SECTORS = 8192, 131072, 32768
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    d.mkdir()
    for name in ("site.toml", "devices.toml"):
        shutil.copy(EXAMPLE / name, d / name)
    (d / "enrol.secret").write_text("enrol-password\n")
    (d / "ca.pem").write_text(CA)
    (d / "pagetally-0.1.0-py3-none-any.whl").write_bytes(b"PK\x05\x06" + bytes(18))
    return d


def make_image(path: Path, config_txt: bool = True) -> Path:
    """100 MiB sparse: p1 FAT32 64 MiB at 4 MiB, p2 Linux 16 MiB (like Raspberry Pi OS)."""
    with path.open("wb") as f:
        f.truncate(100 * 2**20)
    table = (f"label: dos\nstart={BOOT_START}, size={BOOT_SECTORS}, type=c\n"
             f"start={BOOT_START + BOOT_SECTORS}, size={ROOT_SECTORS}, type=83\n")
    subprocess.run(["sfdisk", "-q", str(path)], input=table.encode(), check=True,
                   capture_output=True)
    subprocess.run(["mkfs.vfat", "-F", "32", "-s", "1", "-n", "BOOTFS", "--offset",
                    str(BOOT_START), str(path), str(BOOT_SECTORS // 2)], check=True,
                   capture_output=True)
    if config_txt:
        src = path.with_name("config.txt")
        src.write_text("arm_64bit=1\n")
        subprocess.run(["mcopy", "-i", f"{path}@@{BOOT_START * 512}", str(src),
                        "::/config.txt"], check=True, env=MTOOLS_ENV, capture_output=True)
    return path


def read_back(image: Path, name: str) -> bytes:
    """A file of the image's boot partition, read with mtools (not with our code)."""
    return subprocess.run(["mtype", "-i", f"{image}@@{BOOT_START * 512}", f"::/{name}"],
                          check=True, env=MTOOLS_ENV, capture_output=True).stdout


@pytest.fixture
def raspios_image(tmp_path: Path) -> Path:
    return make_image(tmp_path / "raspios.img")
