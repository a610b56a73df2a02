"""Floors import only from below: ingest never imports the rollups, the query side or above."""

from __future__ import annotations

import ast
from pathlib import Path

import creatorlens

PACKAGE = Path(creatorlens.__file__).parent
ABOVE = {
    "ingest": ("rollup", "query", "privacy", "insights", "live", "notify", "report", "serve",
               "web", "cli", "load", "analytics"),
    "store": ("ingest", "rollup", "query", "privacy", "insights", "live", "notify", "report",
              "serve", "web", "cli", "load", "analytics"),
}  # fmt: skip


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_ingest_and_store_import_nothing_above_them() -> None:
    wrong = []
    for floor, above in ABOVE.items():
        for path in sorted((PACKAGE / floor).rglob("*.py")):
            for name in imported(path):
                parts = name.split(".")
                if parts[0] == "creatorlens" and len(parts) > 1 and parts[1] in above:
                    wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []
