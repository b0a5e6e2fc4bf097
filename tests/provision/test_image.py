"""Writing seeds into a Raspberry Pi OS-like image (built here with sfdisk and mkfs.vfat)
and onto a mounted boot folder; read back with mtools and sfdisk, not with our code."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provision import mbr
from tests.helpers import BIN
from tests.provision.conftest import BOOT_SECTORS, BOOT_START, ROOT_SECTORS, make_image, read_back

PAGETALLY = str(BIN / "pagetally")


def provision(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PAGETALLY, "provision", *map(str, args)], capture_output=True,
                          text=True, env=env, check=False, timeout=120)


def _sfdisk(image: Path) -> list[dict]:
    done = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)["partitiontable"]["partitions"]


def test_parse_reads_what_sfdisk_wrote(raspios_image: Path) -> None:
    parts = mbr.parse(raspios_image.read_bytes()[:512])
    assert [(p.number, p.type, p.start, p.sectors) for p in parts] == [
        (1, 0x0C, BOOT_START, BOOT_SECTORS), (2, 0x83, BOOT_START + BOOT_SECTORS, ROOT_SECTORS)]
    assert mbr.boot_partition(parts).offset == BOOT_START * 512


def test_site_command_makes_three_ready_images(site_dir: Path, raspios_image: Path,
                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = provision("site", site_dir / "site.toml", site_dir / "devices.toml", "--out", out,
                     "--image", raspios_image, "--data-mb", "64")
    assert done.returncode == 0, done.stderr
    for dev in ("lib-gf-1", "lib-1f-1", "lib-2f-1"):
        img = out / f"{dev}.img"
        assert read_back(img, "user-data") == (out / dev / "user-data").read_bytes()
        assert read_back(img, "meta-data") == (out / dev / "meta-data").read_bytes()
        assert read_back(img, "network-config").startswith(b"network:\n  version: 2\n")
        assert read_back(img, "config.txt") == b"arm_64bit=1\n"  # the image's own, kept
        assert read_back(img, "pagetally/pagetally-0.1.0-py3-none-any.whl").startswith(b"PK")
        parts = _sfdisk(img)
        assert len(parts) == 3
        assert parts[2]["type"] == "83"
        assert parts[2]["start"] >= BOOT_START + BOOT_SECTORS + ROOT_SECTORS
        assert parts[2]["size"] == 64 * 2048
        assert img.stat().st_size >= (parts[2]["start"] + parts[2]["size"]) * 512
    assert f"{out}/lib-2f-1.img" in done.stdout
    # the base image is left as it was
    assert len(_sfdisk(raspios_image)) == 2
    assert "copying raspios.img -> lib-gf-1.img: done" in done.stderr


def test_write_twice_keeps_one_data_partition(site_dir: Path, raspios_image: Path,
                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert provision("site", site_dir / "site.toml", site_dir / "devices.toml",
                     "--out", out).returncode == 0
    for _ in range(2):
        done = provision("write", out / "lib-gf-1", "--image", raspios_image, "--data-mb", "32")
        assert done.returncode == 0, done.stderr
    assert len(_sfdisk(raspios_image)) == 3
    assert read_back(raspios_image, "user-data") == (out / "lib-gf-1" / "user-data").read_bytes()


def test_write_to_mounted_boot_folder(site_dir: Path, tmp_path: Path) -> None:
    out, boot = tmp_path / "out", tmp_path / "bootfs"
    boot.mkdir()
    (boot / "config.txt").write_text("arm_64bit=1\n")
    assert provision("site", site_dir / "site.toml", site_dir / "devices.toml",
                     "--out", out).returncode == 0
    done = provision("write", out / "lib-1f-1", "--boot", boot)
    assert done.returncode == 0, done.stderr
    assert (boot / "user-data").read_bytes() == (out / "lib-1f-1" / "user-data").read_bytes()
    assert (boot / "pagetally" / "pagetally-0.1.0-py3-none-any.whl").is_file()


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: p.write_bytes(b"\0" * 4096), "no MBR partition table"),
    (lambda p: p.write_bytes(b"hello"), "too short for a disk image"),
    (lambda p: make_image(p, config_txt=False), "its FAT partition has no config.txt"),
    (lambda p: p.write_bytes(mbr.with_partition(bytes(510) + b"\x55\xaa",
                                                mbr.Partition(1, 0xEE, 1, 100))),
     "GPT partition table"),
    (lambda p: p.write_bytes(mbr.with_partition(bytes(510) + b"\x55\xaa",
                                                mbr.Partition(1, 0x83, 2048, 100))),
     "no FAT boot partition in the image (partitions: #1 type 0x83)"),
    (lambda p: p.write_bytes(mbr.with_partition(bytes(510) + b"\x55\xaa",
                                                mbr.Partition(1, 0x0C, 2048, 100))),
     "runs past the end of the file"),
])
def test_unknown_image_plain_error(site_dir: Path, tmp_path: Path, make, expected: str) -> None:
    img = tmp_path / "weird.img"
    make(img)
    done = provision("site", site_dir / "site.toml", site_dir / "devices.toml",
                     "--out", tmp_path / "out", "--image", img)
    assert done.returncode == 2
    assert done.stderr.startswith(f"pagetally provision: {img}: not a Raspberry Pi OS image: ")
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_image_file(site_dir: Path, tmp_path: Path) -> None:
    done = provision("site", site_dir / "site.toml", site_dir / "devices.toml",
                     "--out", tmp_path / "out", "--image", tmp_path / "nope.img")
    assert done.returncode == 2
    assert f"{tmp_path / 'nope.img'}: no such image file" in done.stderr


def test_missing_mtools_named(site_dir: Path, raspios_image: Path, tmp_path: Path) -> None:
    """PATH without mtools (only the interpreter's folder): the tool names the package."""
    env = {**os.environ, "PATH": str(BIN)}
    done = provision("site", site_dir / "site.toml", site_dir / "devices.toml",
                     "--out", tmp_path / "out", "--image", raspios_image, env=env)
    assert done.returncode == 2
    assert "mdir, mcopy, mmd not found: install mtools" in done.stderr


def test_bad_site_file_exits_2_with_key(site_dir: Path, tmp_path: Path) -> None:
    site = site_dir / "site.toml"
    site.write_text(site.read_text().replace("port = 8883", 'port = "x"'))
    done = provision("site", site, site_dir / "devices.toml", "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr == (f"pagetally provision: {site}: [broker] port: expected an integer, "
                           "got text in quotes\n")


def test_boot_folder_that_is_not_a_boot_partition(site_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert provision("site", site_dir / "site.toml", site_dir / "devices.toml",
                     "--out", out).returncode == 0
    done = provision("write", out / "lib-1f-1", "--boot", tmp_path)
    assert done.returncode == 2
    assert "not a Raspberry Pi boot partition (no config.txt)" in done.stderr


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=600))
def test_mbr_parse_fuzz(data: bytes) -> None:
    """Any bytes: partitions, or ImageError; never another exception."""
    try:
        parts = mbr.parse(data)
    except mbr.ImageError:
        return
    assert all(1 <= p.number <= 4 and p.sectors > 0 for p in parts)


def test_copy_image_is_identical_and_keeps_holes(tmp_path: Path) -> None:
    from provision.image import CHUNK, copy_image

    src, dst = tmp_path / "base.img", tmp_path / "copy.img"
    with src.open("wb") as f:
        f.truncate(64 * 2**20)
        f.seek(3 * CHUNK + 100)
        f.write(os.urandom(5000))
        f.seek(10 * CHUNK)
        f.write(bytes(CHUNK))  # zeros written densely: holes in the copy
        f.seek(64 * 2**20 - 7)
        f.write(b"the end")
    copy_image(src, dst)
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_blocks * 512 <= 2 * CHUNK  # two data chunks, not 64 MiB
    assert not dst.with_name("copy.img.part").exists()
