"""docs/mqtt.md carries the JSON Schema of every payload, generated from the code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from contract import json_schema
from contract.schema import PAYLOADS, doc_blocks

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "mqtt.md"


def test_docs_schemas_match_the_code() -> None:
    blocks = doc_blocks(DOC.read_text())
    assert set(blocks) == set(PAYLOADS)
    schemas = json_schema()
    for name, text in blocks.items():
        assert json.loads(text) == schemas[name], f"docs/mqtt.md {name} is stale"


def test_schemas_are_strict() -> None:
    txn = json_schema()["TxnPayload"]["$defs"]["TxnPayload"]
    assert txn["additionalProperties"] is False
    assert txn["properties"]["amount"]["type"] == "integer"
    assert txn["properties"]["txn_id"]["format"] == "uuid"
    assert txn["properties"]["occurred_at"]["format"] == "date-time"


def test_schema_cli_check_passes() -> None:
    proc = subprocess.run([sys.executable, "-m", "contract.schema", "--check", str(DOC)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_contract_imports_nothing_else_from_the_project() -> None:
    project = {"agent", "central", "drivers", "ui", "simulator", "firmware_bridge", "demo"}
    for path in (ROOT / "contract").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not {n.split(".")[0] for n in names} & project, path
