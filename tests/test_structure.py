"""The package's shape: no import cycles, a core model that imports no surface, and no
surface that depends on a concrete table class."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "neuralake"
CORE = ("neuralake.errors", "neuralake.filters", "neuralake.metadata", "neuralake.storage")
SURFACES = ("neuralake.tables", "neuralake.catalog", "neuralake.export", "neuralake.api",
            "neuralake.cli", "neuralake.sql", "neuralake.query", "neuralake.contracts")  # fmt: skip
CONCRETE = ("NeuralakeDeltaTable", "ParquetTable", "FunctionTable")


def _modules() -> dict[str, Path]:
    mods = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str) -> dict[str, list[str]]:
    """``{imported module: [imported names]}`` at any depth (function-level imports count),
    except under ``if TYPE_CHECKING:``."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, list[str]] = {}

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, [])
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in MODULES else base
                found.setdefault(target, []).append(alias.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name in MODULES:
        deps = set()
        for target in _imports(name):
            # importing a package runs its __init__, but a package's own submodules importing
            # the package facade are not a cycle of theirs
            if target in MODULES and target != name and not name.startswith(target + "."):
                deps.add(target)
        graph[name] = deps - {"neuralake"}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("core", CORE)
def test_core_model_imports_no_surface(core: str) -> None:
    surfaces = [t for t in _imports(core) if t.startswith(SURFACES)]
    assert surfaces == [], f"{core} imports {surfaces}"


def test_no_surface_outside_tables_uses_a_concrete_table_class() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name == "neuralake" or name.startswith("neuralake.tables"):
            continue  # the facade re-exports the classes; tables/ defines them
        for target, names in _imports(name).items():
            if target.startswith("neuralake.tables") and set(names) & set(CONCRETE):
                offenders.append(f"{name} imports {sorted(set(names) & set(CONCRETE))}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "isinstance"
                and len(node.args) == 2
                and any(c in ast.unparse(node.args[1]) for c in CONCRETE)
            ):
                offenders.append(f"{name}:{node.lineno} isinstance on a concrete table class")
    assert offenders == []
