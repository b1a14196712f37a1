"""The Delta package's shape: the helpers below the table never import it back (at any depth,
function-level imports included), nothing imports the old modules, and the facade exports the
public names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import neuralake.tables.delta as delta

PACKAGE = Path(delta.__file__).parent
HELPERS = sorted(p for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "table.py"))


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, spelled absolutely (``if TYPE_CHECKING`` included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(["neuralake", "tables", "delta", *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_there_are_helpers() -> None:
    assert {p.stem for p in HELPERS} >= {"errors", "log", "maintenance", "snapshot", "write"}


@pytest.mark.parametrize("path", HELPERS, ids=lambda p: p.stem)
def test_helpers_never_import_the_table(path: Path) -> None:
    bad = {n for n in imported(path) if n in ("neuralake.tables.delta.table", "neuralake")}
    bad |= {n for n in imported(path) if n == "neuralake.tables.delta"}
    assert bad == set(), f"{path.name} imports {sorted(bad)}"


def test_helpers_import_each_other_without_cycles() -> None:
    graph = {
        p.stem: {
            n.rsplit(".", 1)[1]
            for n in imported(p)
            if n.startswith("neuralake.tables.delta.") and n.count(".") == 3
        }
        - {p.stem}
        for p in HELPERS
    }
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"import cycle: {' -> '.join((*path, node))}"
        if node in done or node not in graph:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, (*path, node))
        done.add(node)

    for name in sorted(graph):
        visit(name, ())


def test_old_modules_are_gone_and_the_facade_exports() -> None:
    assert not (PACKAGE.parent / "delta.py").exists()
    assert not (PACKAGE.parent / "delta_write.py").exists()
    assert sorted(delta.__all__) == [
        "MergeMetrics", "NeuralakeDeltaTable", "OptimizeMetrics", "RestoreMetrics",
        "SchemaMode", "WriteMode",
    ]  # fmt: skip
    from neuralake import NeuralakeDeltaTable

    assert NeuralakeDeltaTable is delta.NeuralakeDeltaTable
