"""The single `pagetally` entry point.

Subcommands are imported lazily by name so that `pagetally agent` on a Pi never loads
Kivy, and production code never imports the simulator unless `pagetally sim` is asked for.
"""

from __future__ import annotations

import importlib
import sys

from contract.version import VERSION

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("simulator.cli:main", "run the simulated MFD (IPP printer, SNMP agent, faults)"),
    "agent": ("agent.daemon_cli:main", "run the agent daemon, or `agent ctl ...` to talk to it"),
    "central": ("central.cli:main", "run the central ledger service and its admin commands"),
    "panel": ("ui.app:main", "run the Kivy touch panel"),
    "demo": ("demo.run:main", "run the whole system on the simulator"),
    "provision": ("provision.cli:main", "seed Raspberry Pi OS cards for a site"),
    "enrol": ("agent.enrol:main", "first boot: trade the one-time token for MQTT credentials"),
}


#: what an optional part of the install brings (`pip install 'pagetally[EXTRA]'`)
EXTRAS = {"pysnmp": "sim", "kivy": "panel", "psycopg": "postgres"}


def _usage() -> str:
    lines = ["usage: pagetally <command> [options] | pagetally --version", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    if args[0] == "--version":
        print(f"pagetally {VERSION}")
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"pagetally: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, func_name = SUBCOMMANDS[name][0].split(":")
    try:  # a command may import its optional packages late, so the call is inside too
        return int(getattr(importlib.import_module(module_name), func_name)(rest) or 0)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"pagetally {name}: this needs the optional part '{extra}', which is not"
              f" installed here: pip install 'pagetally[{extra}]'", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
