"""Copying a base image per device: our sparse copy against `cp --sparse=always`, same run.

A Raspberry Pi OS Lite image is ~2.7 GB, mostly empty blocks; a site of N devices copies it
N times, so this is the long part of `pagetally provision site --image`. The image here has
the given size with every 8th 4 MiB chunk filled with random bytes (about what a freshly
unpacked image holds). The ratio copy_image/cp is what to watch (1.0 = as fast as cp).
Run: `python -m bench.provision [--size-mb 1024] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from provision.image import CHUNK, copy_image


def make_base(path: Path, size_mb: int) -> None:
    with path.open("wb") as f:
        f.truncate(size_mb * 2**20)
        for i in range(0, size_mb * 2**20, 8 * CHUNK):
            f.seek(i)
            f.write(os.urandom(CHUNK))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-provision-") as tmp:
        base, ours, ref = Path(tmp, "base.img"), Path(tmp, "ours.img"), Path(tmp, "cp.img")
        make_base(base, args.size_mb)
        ours_s, cp_s = [], []
        for _ in range(args.runs):
            cp_s.append(timed(lambda: subprocess.run(
                ["cp", "--sparse=always", str(base), str(ref)], check=True)))
            ours_s.append(timed(lambda: copy_image(base, ours)))
            ref.unlink()
        used = ours.stat().st_blocks * 512 / 2**20
        cp_med, ours_med = statistics.median(cp_s), statistics.median(ours_s)
        print(f"image {args.size_mb} MiB, {used:.0f} MiB allocated after our copy")
        print(f"cp --sparse=always  median {cp_med:.3f} s  ({args.size_mb / cp_med:.0f} MiB/s)")
        print(f"copy_image          median {ours_med:.3f} s  ({args.size_mb / ours_med:.0f} MiB/s)")
        print(f"ratio copy_image/cp {ours_med / cp_med:.2f}")


if __name__ == "__main__":
    main()
