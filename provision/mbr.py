"""The MBR partition table of a disk image, read and extended in pure Python.

Raspberry Pi OS images use an MBR: partition 1 is the FAT boot partition, 2 the ext4 root.
We need only where the FAT partition starts (for mtools' `image@@offset`) and to add a
third partition for `/data` (a root that is not the last partition is never grown).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SECTOR = 512
_TABLE_AT = 446
_ENTRY = struct.Struct("<B3sB3sII")
FAT_TYPES = frozenset({0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E})
LINUX = 0x83
GPT_PROTECTIVE = 0xEE
_NO_CHS = b"\xfe\xff\xff"  # "use LBA": what partitioners write past 8 GB


class ImageError(Exception):
    """A disk image this tool cannot use, said in plain words."""


@dataclass(frozen=True)
class Partition:
    number: int  # 1-4, as Linux names them (mmcblk0p1)
    type: int
    start: int  # in sectors
    sectors: int

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def end(self) -> int:
        return self.start + self.sectors

    @property
    def is_fat(self) -> bool:
        return self.type in FAT_TYPES


def parse(sector0: bytes) -> list[Partition]:
    """The used primary partitions of an MBR (first 512 bytes of the image)."""
    if len(sector0) < SECTOR:
        raise ImageError(f"too short for a disk image ({len(sector0)} bytes; an MBR is 512)")
    if sector0[510:512] != b"\x55\xaa":
        raise ImageError("no MBR partition table (the boot signature 55 AA is missing); "
                         "is this a raw .img file? Unpack a .img.xz first")
    parts = []
    for i in range(4):
        _, _, ptype, _, start, count = _ENTRY.unpack_from(sector0, _TABLE_AT + 16 * i)
        if ptype == GPT_PROTECTIVE:
            raise ImageError("this image has a GPT partition table; Raspberry Pi OS "
                             "images use MBR")
        if ptype and count:
            parts.append(Partition(i + 1, ptype, start, count))
    return parts


def boot_partition(parts: list[Partition]) -> Partition:
    """The first FAT partition: where the firmware and cloud-init look for the seed."""
    for part in parts:
        if part.is_fat:
            return part
    kinds = ", ".join(f"#{p.number} type 0x{p.type:02x}" for p in parts) or "none"
    raise ImageError(f"no FAT boot partition in the image (partitions: {kinds})")


def with_partition(sector0: bytes, part: Partition) -> bytes:
    """`sector0` with `part` written into its slot (the rest of the table untouched)."""
    entry = _ENTRY.pack(0, _NO_CHS, part.type, _NO_CHS, part.start, part.sectors)
    at = _TABLE_AT + 16 * (part.number - 1)
    return sector0[:at] + entry + sector0[at + 16:]


def next_free(parts: list[Partition], sectors: int, align: int = 8192) -> Partition:
    """A new Linux partition of `sectors` after the last one, aligned to 4 MiB."""
    used = {p.number for p in parts}
    free = [n for n in range(1, 5) if n not in used]
    if not free:
        raise ImageError("all four MBR partition slots are used; no room for /data")
    last = max((p.end for p in parts), default=align)
    start = -(-last // align) * align
    return Partition(free[0], LINUX, start, sectors)
