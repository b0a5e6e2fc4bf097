"""JSON Schema of every contract payload, and the generator that keeps docs/mqtt.md true.

`python -m contract.schema` prints all schemas as one JSON object.
`python -m contract.schema --update docs/mqtt.md` rewrites the fenced blocks that follow each
`<!-- schema: Name -->` marker; `--check` exits 1 if any block is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import msgspec

from contract.payloads import (
    AckBatch,
    AckPayload,
    PrinterPayload,
    ResendRequest,
    RpcRequest,
    RpcResponse,
    StatusPayload,
    TxnBatch,
    TxnPayload,
)

PAYLOADS: dict[str, Any] = {
    "TxnPayload": TxnPayload,
    "TxnBatch": TxnBatch,
    "AckPayload": AckPayload,
    "AckBatch": AckBatch,
    "StatusPayload": StatusPayload,
    "PrinterPayload": PrinterPayload,
    "ResendRequest": ResendRequest,
    "RpcRequest": RpcRequest,
    "RpcResponse": RpcResponse,
}
_BLOCK = re.compile(r"(<!-- schema: (\w+) -->\n```json\n)(.*?)(\n```)", re.DOTALL)


def json_schema() -> dict[str, Any]:
    """One self-contained JSON Schema (draft 2020-12) per payload name."""
    out: dict[str, Any] = {}
    for name, type_ in PAYLOADS.items():
        schema = msgspec.json.schema(type_)
        out[name] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                     "title": name, **schema}
    return out


def render(name: str) -> str:
    return json.dumps(json_schema()[name], indent=2, sort_keys=True)


def doc_blocks(text: str) -> dict[str, str]:
    """The schema blocks of a markdown document, by payload name."""
    return {m.group(2): m.group(3) for m in _BLOCK.finditer(text)}


def update_doc(text: str) -> str:
    return _BLOCK.sub(lambda m: m.group(1) + render(m.group(2)) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m contract.schema", description=__doc__)
    p.add_argument("--update", type=Path, help="rewrite the schema blocks of this markdown file")
    p.add_argument("--check", type=Path, help="exit 1 if this markdown file's blocks are stale")
    args = p.parse_args(argv)
    if args.update:
        args.update.write_text(update_doc(args.update.read_text()))
        return 0
    if args.check:
        text = args.check.read_text()
        if update_doc(text) != text or set(doc_blocks(text)) != set(PAYLOADS):
            print(f"{args.check}: schemas are stale; run --update", file=sys.stderr)
            return 1
        return 0
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
