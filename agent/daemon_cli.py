"""`pagetally agent`: run the daemon, or `pagetally agent ctl METHOD [JSON]` to talk to it."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from agent.api.client import ApiClient, ApiError

DEFAULT_CONFIG = Path("/etc/pagetally/agent.toml")


def _run(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pagetally agent", description="Run the agent daemon.")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from agent.config import ConfigError, load_config
    from agent.daemon import run

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"pagetally agent: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(config))
    except KeyboardInterrupt:
        pass
    return 0


async def _ctl_call(socket: str, method: str, params: dict[str, Any], follow: bool) -> Any:
    client = await ApiClient.connect(socket)
    try:
        if follow:
            await client.call("subscribe")
        result = await client.call(method, params)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        if follow:
            async for name, note in client.notifications():
                print(json.dumps({"notification": name, "params": note}, ensure_ascii=False),
                      flush=True)
                if name == "job.result":
                    break
        return result
    finally:
        await client.close()


def _ctl(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pagetally agent ctl",
                                description="Call one method of the agent's local API.")
    p.add_argument("--socket", default="/run/pagetally/agent.sock")
    p.add_argument("--follow", action="store_true",
                   help="print notifications after the call until a job result arrives")
    p.add_argument("method", help="e.g. session.login, jobs.list, jobs.release")
    p.add_argument("params", nargs="?", default="{}", help="JSON object of parameters")
    args = p.parse_args(argv)
    try:
        params = json.loads(args.params)
    except ValueError as exc:
        print(f"pagetally agent ctl: params are not valid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_ctl_call(args.socket, args.method, params, args.follow))
    except ApiError as exc:
        print(f"error ({exc.kind}): {exc.message}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "ctl":
        return _ctl(argv[1:])
    if argv and argv[0] == "run":
        argv = argv[1:]
    return _run(argv)
