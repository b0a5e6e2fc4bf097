"""Writing a seed into a Raspberry Pi OS image file (mtools, no mounting, no root) or onto
a card's mounted boot partition.

The FAT partition's byte offset comes from the MBR (`provision.mbr`) and goes to mtools as
`-i image@@offset`. A copy of the base image per device is sparse and shows progress.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from provision import mbr, tools
from provision.errors import ProvisionError
from provision.progress import Progress

CHUNK = 4 * 2**20
MARKER = "config.txt"  # every Raspberry Pi boot partition has one


def _mtools_target(image: Path, part: mbr.Partition) -> str:
    return f"{image}@@{part.offset}"


def _has(listing: str, name: str) -> bool:
    """Whether `mdir -b ::/` output (one `::/NAME` a line) lists `name` (FAT: any case)."""
    return any(line.strip().rstrip("/").lower() == f"::/{name.lower()}"
               for line in listing.splitlines())


def boot_partition(image: Path) -> mbr.Partition:
    """The FAT boot partition of a Raspberry Pi OS image, or a plain error saying why not."""
    if not image.is_file():
        raise ProvisionError(f"{image}: no such image file")
    with image.open("rb") as f:
        sector0 = f.read(mbr.SECTOR)
    try:
        part = mbr.boot_partition(mbr.parse(sector0))
    except mbr.ImageError as exc:
        raise ProvisionError(f"{image}: not a Raspberry Pi OS image: {exc}") from None
    if part.offset + part.sectors * mbr.SECTOR > image.stat().st_size:
        raise ProvisionError(f"{image}: not a Raspberry Pi OS image: the boot partition runs "
                             "past the end of the file (truncated download?)")
    tools.need("mdir", "mcopy", "mmd")
    listing = tools.run(["mdir", "-b", "-i", _mtools_target(image, part), "::/"])
    if not _has(listing, MARKER):
        raise ProvisionError(f"{image}: not a Raspberry Pi OS image: its FAT partition has no "
                             f"{MARKER}")
    return part


def _data_ranges(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of data; holes are skipped (SEEK_DATA/SEEK_HOLE)."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                return
            if exc.errno == errno.EINVAL:  # file system without hole reporting
                yield pos, size
                return
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        pos = end


def _copy_range(fin: int, fout: int, start: int, end: int, bar: Progress) -> None:
    """Copy [start, end) in chunks; chunks of zeros stay holes in the copy."""
    pos = start
    while pos < end:
        n = min(CHUNK, end - pos)
        chunk = os.pread(fin, n, pos)
        if not chunk:
            raise ProvisionError("the image file shrank while it was being copied")
        if chunk.count(0) != len(chunk):
            os.pwrite(fout, chunk, pos)
        pos += len(chunk)
        bar.advance(len(chunk))


def copy_image(src: Path, dst: Path) -> None:
    """Copy keeping holes (a base image is mostly empty) with a progress bar."""
    size = src.stat().st_size
    bar = Progress(f"copying {src.name} -> {dst.name}", size)
    tmp = dst.with_name(dst.name + ".part")
    with src.open("rb") as fin, tmp.open("wb") as fout:
        fout.truncate(size)
        done = 0
        for start, end in _data_ranges(fin.fileno(), size):
            bar.advance(start - done)  # the hole before this run
            _copy_range(fin.fileno(), fout.fileno(), start, end, bar)
            done = end
        fout.flush()
        os.fsync(fout.fileno())
    tmp.replace(dst)
    bar.finish()


def add_data_partition(image: Path, size_mb: int) -> mbr.Partition:
    """A Linux partition after the root for /data; already there, it is kept as it is."""
    with image.open("r+b") as f:
        sector0 = f.read(mbr.SECTOR)
        parts = mbr.parse(sector0)
        linux = [p for p in parts if p.type == mbr.LINUX]
        if len(linux) >= 2:
            return linux[-1]
        new = mbr.next_free(parts, size_mb * 2**20 // mbr.SECTOR)
        f.truncate(max(image.stat().st_size, new.end * mbr.SECTOR))
        f.seek(0)
        f.write(mbr.with_partition(sector0, new))
    return new


def write_to_image(image: Path, files: Mapping[str, bytes]) -> None:
    """Put each file (path on the boot partition → content) into the image's FAT."""
    target = _mtools_target(image, boot_partition(image))
    with tempfile.TemporaryDirectory(prefix="pagetally-seed-") as tmp:
        made: set[str] = set()
        for name, content in files.items():
            parent = name.rpartition("/")[0]
            if parent and parent not in made:
                if not _has(tools.run(["mdir", "-b", "-i", target, "::/"]), parent):
                    tools.run(["mmd", "-i", target, f"::/{parent}"])
                made.add(parent)
            local = Path(tmp, name.replace("/", "_"))
            local.write_bytes(content)
            tools.run(["mcopy", "-o", "-i", target, str(local), f"::/{name}"])


def write_to_folder(boot: Path, files: Mapping[str, bytes]) -> None:
    """Put the files onto a mounted boot partition (an SD card in the laptop's reader)."""
    if not (boot / MARKER).is_file():
        raise ProvisionError(f"{boot}: not a Raspberry Pi boot partition (no {MARKER}); "
                             "give the mounted 'bootfs' folder of the card")
    for name, content in files.items():
        path = boot / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
