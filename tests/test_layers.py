"""Imports run one way, floor by floor (DESIGN.md), and interfaces reach answers only through
the release stage: never the store, the rollups or the runner's raw results."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "src" / "creatorlens"

# Each floor imports only from floors below it (or its own). `errors` serves every floor.
FLOORS = {
    "errors": 0,
    "store": 1,
    "ingest": 2,
    "generate": 2,
    "importers": 3,
    "rollup": 3,
    "load": 3,
    # The event lake writes from the store and runs the rollups' Spark rendering over it.
    "lake": 3,
    "query": 4,
    "privacy": 5,
    "studio": 6,
    "insights": 6,
    "live": 6,
    "notify": 6,
    "report": 7,
    "serve": 7,
    "web": 7,
    "apps": 7,
    "cli": 8,
    "__main__": 9,
}
INTERFACES = ("report", "serve", "web", "apps", "cli")
# What an interface may never import: the store, the rollups, the runner and its raw layer.
RAW = ("creatorlens.store", "creatorlens.rollup", "creatorlens.query.")
# The query model's public values an interface may name (a Query to ask, a Period to show).
ALLOWED_QUERY = ("creatorlens.query", "creatorlens.query.model", "creatorlens.query.metrics")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out.append(((parts[0] if parts[0] != "__init__" else "__init__"), path))
    return out


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return [n for n in names if n == "creatorlens" or n.startswith("creatorlens.")]


def test_every_package_has_a_floor() -> None:
    assert {floor for floor, _ in _modules()} - {"__init__"} <= set(FLOORS)


def test_no_import_from_a_higher_floor() -> None:
    upward = []
    for floor, path in _modules():
        if floor == "__init__":
            continue
        for name in _imports(path):
            target = name.split(".")[1] if "." in name else "__init__"
            if target != "__init__" and FLOORS[target] > FLOORS[floor]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert upward == []


def test_interfaces_reach_the_data_only_through_the_release_stage() -> None:
    reaching = []
    for floor, path in _modules():
        if floor not in INTERFACES:
            continue
        for name in _imports(path):
            if name in ALLOWED_QUERY:
                continue
            if name.startswith(RAW) or name == "creatorlens.query.runner":
                reaching.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert reaching == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The rule has teeth: a report module reading the runner would be caught.
    module = tmp_path / "leak.py"
    module.write_text("from creatorlens.query.runner import run_raw\nimport creatorlens.store\n")
    assert _imports(module) == ["creatorlens.query.runner", "creatorlens.store"]
    assert all(n.startswith(RAW) for n in _imports(module))
