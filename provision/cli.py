"""`pagetally provision`: seed Raspberry Pi OS cards for a site.

  pagetally provision site SITE.toml DEVICES.toml --out DIR [--image raspios.img]
  pagetally provision write DIR/DEVICE (--image CARD.img | --boot /media/you/bootfs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provision import build, image
from provision.errors import ProvisionError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pagetally provision", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("site", help="make every device's seed (and images) for a site")
    s.add_argument("site", type=Path, help="the site file (TOML)")
    s.add_argument("devices", type=Path, help="the device list (TOML, [[device]] tables)")
    s.add_argument("--out", type=Path, required=True, help="folder for seeds and images")
    s.add_argument("--image", type=Path,
                   help="a Raspberry Pi OS (Trixie) .img: also write one ready image per device")
    s.add_argument("--data-mb", type=int, default=1024,
                   help="size of the /data partition added to each image (default 1024)")
    w = sub.add_parser("write", help="write one device's seed onto a card or an image")
    w.add_argument("seed", type=Path, help="the device's seed folder (made by `site`)")
    target = w.add_mutually_exclusive_group(required=True)
    target.add_argument("--image", type=Path, help="an image file: written with mtools")
    target.add_argument("--boot", type=Path, help="a card's mounted boot partition")
    w.add_argument("--data-mb", type=int, default=1024,
                   help="with --image: size of the /data partition to add (default 1024)")
    return p


def _site(args: argparse.Namespace) -> None:
    built = build.build(args.site, args.devices, args.out, args.image, args.data_mb)
    for folder in built.seeds:
        print(f"seed   {folder}/ (user-data, network-config, meta-data)")
    for img in built.images:
        print(f"image  {img}")
    print(f"tokens {built.tokens_file}: import at central with "
          f"`pagetally central enrol import {built.tokens_file.name} --db LEDGER`")


def _write(args: argparse.Namespace) -> None:
    files = build.seed_files(args.seed)
    if args.image is not None:
        image.boot_partition(args.image)
        part = image.add_data_partition(args.image, args.data_mb)
        image.write_to_image(args.image, files)
        print(f"wrote {len(files)} files to {args.image} (boot partition); /data is "
              f"partition {part.number}")
    else:
        image.write_to_folder(args.boot, files)
        print(f"wrote {len(files)} files to {args.boot}; eject the card before removing it")


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        _site(args) if args.command == "site" else _write(args)
    except ProvisionError as exc:
        print(f"pagetally provision: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"pagetally provision: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0
