"""docs/api.md against the API's Structs: every method and notification is in its table with
its types, every object lists exactly its Struct's fields in order, every Struct is documented.

How the page writes things (kept readable for people, parsed here):
- a named object: `` `Name`: `{"a", "b": type, "c": "x"|"y" (note), ...}` `` at a line start;
- a table row: `` | `method` | params | result | `` where a cell names Structs in backticks
  (`` `Session` ``, `` `[HeldJob]` ``, with `null` when it may be null) or writes one small
  Struct inline (`` `{"ok": true}` ``; several inline objects together give its fields, as
  `{"ids": [...]}` or `{"all": true}`).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

import msgspec
import pytest

from agent.api import params, payloads
from agent.api.methods import METHODS, NOTIFICATIONS, structs_in
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "api.md").read_text()
NAMED = re.compile(r"^`([A-Z]\w*)`: `\{(.*?)\}`", re.M | re.S)
ROW = re.compile(r"^\| `([a-z.]+)` \|(.*)\|\s*$", re.M)
TICKED = re.compile(r"`([^`]+)`")


def top_level_fields(body: str) -> list[str]:
    """Field names of an object written `"a", "b": type (note), ...`: the quoted name that
    starts each top-level part; quotes, brackets and parentheses nest."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(body):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([{":
            depth += 1
        elif not quoted and ch in ")]}":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    names = [re.match(r'\s*"([a-z_]+)"', part) for part in parts]
    return [m[1] for m in names if m]


def fields(struct: type[msgspec.Struct]) -> list[str]:
    return list(struct.__struct_fields__)


def section(title: str) -> str:
    found = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert found, f"docs/api.md has no '## {title}' section"
    return found[1]


def table(title: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for name, cells in ROW.findall(section(title)):
        assert name not in rows, f"docs/api.md lists {name} twice"
        rows[name] = [c.strip() for c in cells.split(" | ")]
    return rows


NAMED_OBJECTS = {name: top_level_fields(body) for name, body in NAMED.findall(DOC)}
API_STRUCTS = {cls.__name__: cls for module in (params, payloads)
               for cls in vars(module).values()
               if isinstance(cls, type) and issubclass(cls, msgspec.Struct)
               and cls.__module__ == module.__name__ and cls not in (params.Params,
                                                                     payloads.Payload)}


def check_cell(cell: str, kind: Any, where: str) -> set[str]:
    """The cell describes `kind`; returns the Structs it writes inline."""
    structs = {s.__name__: s for s in structs_in(kind)}
    ticked = TICKED.findall(cell)
    inline = [t for t in ticked if t.startswith("{")]
    named = {n for t in ticked if not t.startswith("{")
             for n in re.findall(r"\b[A-Z]\w*\b", t) if n in API_STRUCTS}
    assert named <= set(structs), f"{where}: names {named - set(structs)}, not its type"
    unnamed = set(structs) - named
    assert len(unnamed) <= 1, f"{where}: name {sorted(unnamed)} in backticks"
    written = [f for t in inline for f in top_level_fields(t[1:-1])]
    if unnamed:
        [struct] = [structs[n] for n in unnamed]
        assert sorted(set(written)) == sorted(fields(struct)), (
            f"{where}: inline fields {written}, {struct.__name__} has {fields(struct)}")
    else:
        assert not written, f"{where}: inline fields {written} but its type has none left"
    nullable = type(None) in typing.get_args(kind) if isinstance(kind, types.UnionType) \
        else False
    assert nullable == ("null" in re.sub(r'\{.*?\}', "", cell)), (
        f"{where}: says null {'nowhere' if nullable else 'but cannot be null'}")
    if typing.get_origin(kind) is list:
        [item] = structs.values()
        assert f"[{item.__name__}]" in cell, f"{where}: a list, write `[{item.__name__}]`"
    return unnamed


def test_the_methods_table_is_the_method_table() -> None:
    rows = table("Methods")
    assert sorted(rows) == sorted(METHODS), "docs/api.md's methods differ from the agent's"
    for name, method in METHODS.items():
        param_cell, result_cell = rows[name][0], rows[name][1]
        check_cell(param_cell, method.params, f"{name} params")
        check_cell(result_cell, method.result, f"{name} result")


def test_the_notifications_table_is_the_notification_table() -> None:
    rows = table(r"Notifications \(after `subscribe`\)")
    assert sorted(rows) == sorted(NOTIFICATIONS)
    for name, note in NOTIFICATIONS.items():
        check_cell(rows[name][0], note.params, f"notification {name}")


@pytest.mark.parametrize("name", sorted(NAMED_OBJECTS))
def test_every_documented_object_has_exactly_its_structs_fields(name: str) -> None:
    assert name in API_STRUCTS, f"docs/api.md documents `{name}`, which is no API Struct"
    assert NAMED_OBJECTS[name] == fields(API_STRUCTS[name]), (
        f"docs/api.md `{name}` lists {NAMED_OBJECTS[name]}; the Struct has"
        f" {fields(API_STRUCTS[name])}")


def test_every_struct_is_documented() -> None:
    inline: set[str] = set()
    for name, method in METHODS.items():
        cells = table("Methods")[name]
        inline |= check_cell(cells[0], method.params, name)
        inline |= check_cell(cells[1], method.result, name)
    notes = table(r"Notifications \(after `subscribe`\)")
    for name, note in NOTIFICATIONS.items():
        inline |= check_cell(notes[name][0], note.params, name)
    missing = set(API_STRUCTS) - set(NAMED_OBJECTS) - inline
    assert not missing, f"docs/api.md does not document {sorted(missing)}"


def test_the_parser_reads_nested_and_annotated_fields() -> None:
    body = '"a", "b": [{"x", "y"}], "c" ({"k"|"j": n}, note), "d": "p"|"q", "e"'
    assert top_level_fields(body) == ["a", "b", "c", "d", "e"]
