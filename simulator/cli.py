"""`pagetally sim`: run the simulated MFD."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from simulator.config import ConfigError, load_config
from simulator.profiles import PROFILES, parse_names


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pagetally sim", description=__doc__)
    p.add_argument("--config", type=Path, help="TOML file with a [sim] table")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, help="IPP and control port (default 8631, 0 = any)")
    p.add_argument("--snmp-port", type=int, help="SNMP UDP port (default 1161)")
    p.add_argument("--ppm", type=float, help="engine speed in pages per minute")
    p.add_argument("--warmup", dest="warmup_s", type=float, help="warm-up seconds")
    p.add_argument("--sleep-after", dest="sleep_after_s", type=float,
                   help="idle seconds before sleep")
    p.add_argument("--seed", type=int, help="seed for random faults")
    p.add_argument("--fault-rate", type=float, help="share of jobs given a random fault")
    p.add_argument("--jam-then", choices=["abort", "continue"],
                   help="after a cleared jam, abort the job or print the rest")
    p.add_argument("--hold-all", action="store_true", default=None,
                   help="hold every job until Release-Job")
    p.add_argument("--get-jobs-oldest-first", action="store_true", default=None,
                   help="quirk: Get-Jobs lists completed jobs oldest first, as some printers "
                        "do (RFC 8011 says newest first), so a limited listing misses the "
                        "latest jobs")
    p.add_argument("--copier-without-board", action="store_true", default=None,
                   help="no copier board: the walk-up copier always copies and sends no "
                        "pulses (copy tracking from the device's counters alone)")
    p.add_argument("--profile", dest="profiles", type=parse_names, metavar="NAME[,NAME]",
                   help="quirk profiles to imitate, comma-separated: "
                        + ", ".join(sorted(PROFILES)))
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    overrides = {k: v for k, v in vars(args).items() if k not in {"config", "verbose"}}
    try:
        config = load_config(args.config, overrides)
    except ConfigError as exc:
        print(f"pagetally sim: {exc}", file=sys.stderr)
        return 2
    from simulator.app import serve

    try:
        asyncio.run(serve(config))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"pagetally sim: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
