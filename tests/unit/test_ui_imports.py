"""The panel's modules import one another without a cycle, counting type-only imports:
screens and controller meet through the protocols in ui.host, and only ui.panel (and the
entry points that start it) know the concrete classes."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import modules_loaded_by

UI = Path(__file__).resolve().parents[2] / "ui"


def ui_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in UI.rglob("*.py"):
        name = ".".join(path.relative_to(UI.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ui"):
                found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("ui")}
        graph[name] = found
    return {mod: {dep for dep in deps if dep in graph and dep != mod}
            for mod, deps in graph.items()}


def test_no_import_cycle_in_the_panel() -> None:
    graph = ui_imports()
    state: dict[str, str] = {}

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = "open"
        for dep in sorted(graph[mod]):
            assert state.get(dep) != "open", "import cycle: " + " -> ".join([*path, mod, dep])
            if dep not in state:
                visit(dep, [*path, mod])
        state[mod] = "done"

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [])
    assert "ui.host" in graph and "ui.panel" in graph["ui.app"]


def test_only_the_entry_points_know_the_app_class() -> None:
    knows = {mod for mod, deps in ui_imports().items() if "ui.panel" in deps}
    assert knows == {"ui.app", "ui.screenshots"}


def test_the_panel_loads_the_agents_api_types_and_nothing_of_its_daemon() -> None:
    """The panel is a process of its own: its client edge decodes into agent.api's Structs,
    which need only msgspec (and contract's plain-words errors), never the agent's daemon,
    ledger or metering."""
    loaded = modules_loaded_by("ui.agent_api", "ui.controller")
    assert {m for m in loaded if m.split(".")[0] == "agent"} == {
        "agent", "agent.api", "agent.api.client", "agent.api.methods", "agent.api.params",
        "agent.api.payloads", "agent.api.protocol"}
    assert {m.split(".")[0] for m in loaded} & {"drivers", "central", "simulator", "kivy"} == set()
