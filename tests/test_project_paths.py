"""The same catalog reads the same data from any working folder: relative uris, catalog
references, the site's snippets and the command line resolve from the project root."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from neuralake import Catalog, SourceLocation, load_catalog
from neuralake.catalog import project_root_for
from neuralake.export.site.snippets import table_snippets
from neuralake.metadata import project_root

PACKAGE = "nl_shop_proj"
REFERENCE = f"{PACKAGE}.catalog:catalog"
CATALOG_MODULE = """\
import polars as pl
import pyarrow as pa
from neuralake import Catalog, Database, NeuralakeDeltaTable, ParquetTable

orders = ParquetTable("orders", "data/orders", description="Relative to the project root.")
events = NeuralakeDeltaTable("events", "./data/events",
                             schema=pa.schema([("id", pa.int64()), ("kind", pa.string())]))
catalog = Catalog({"shop": Database([orders, events])}, name="shop")
"""
ORDERS = pl.DataFrame({"o_id": [1, 2, 3], "amount": [10.5, 20.0, 7.25]})
EVENTS = pl.DataFrame({"id": [1, 2], "kind": ["view", "buy"]})


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project folder: pyproject.toml naming the catalog, a package, data and a subfolder."""
    root = tmp_path / "proj"
    (root / PACKAGE).mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\n\n[tool.neuralake]\ncatalog = "{REFERENCE}"\n'
    )
    (root / PACKAGE / "__init__.py").write_text("")
    (root / PACKAGE / "catalog.py").write_text(CATALOG_MODULE)
    (root / "data" / "orders").mkdir(parents=True)
    ORDERS.write_parquet(root / "data" / "orders" / "part-0.parquet")
    (root / "notebooks" / "deep").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    saved_path = list(sys.path)
    yield root
    sys.path[:] = saved_path
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def _fresh_load(reference: str = REFERENCE) -> Catalog:
    """Import the catalog module anew, so its tables are declared in the current folder."""
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    return load_catalog(reference)


@pytest.mark.parametrize("where", ["root", "subfolder", "elsewhere"])
def test_relative_uris_read_the_same_rows_from_any_folder(
    project: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = {
        "root": project,
        "subfolder": project / "notebooks" / "deep",
        "elsewhere": project.parent / "elsewhere",
    }[where]
    monkeypatch.chdir(folder)
    if where == "elsewhere":  # outside the project: importable through sys.path (PYTHONPATH)
        monkeypatch.syspath_prepend(str(project))
    catalog = _fresh_load()
    events = catalog.get_table("shop.events")
    if not events.exists():
        events.write(EVENTS, mode="error")
    assert catalog.table("shop.orders").collect().sort("o_id").equals(ORDERS)
    assert catalog.table("shop.events").collect().sort("id").equals(EVENTS)
    meta = catalog.describe_table("shop.orders")
    assert meta.location == str(project / "data" / "orders")
    assert catalog.describe_table("shop.events").location == str(project / "data" / "events")
    assert not (folder / "data").exists() or folder == project


def test_absolute_and_remote_uris_are_untouched(tmp_path: Path) -> None:
    from neuralake import ParquetTable

    for uri in ("s3://bucket/t", "file:///data/t", str(tmp_path / "t"), "gs://b/t"):
        assert ParquetTable("t", uri).uri == uri
    assert ParquetTable("t", "~/lake/t").uri == str(Path.home() / "lake" / "t")


def test_project_root_falls_back_to_the_top_level_package_then_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "top" / "sub").mkdir(parents=True)
    module_file = tmp_path / "top" / "sub" / "mod.py"
    module_file.write_text("")
    init_file = tmp_path / "top" / "__init__.py"
    init_file.write_text("")
    monkeypatch.setitem(sys.modules, "top.sub.mod", sys.modules[__name__])
    monkeypatch.setitem(sys.modules, "top", sys.modules[__name__])
    if project_root(SourceLocation("top.sub.mod", "t", str(module_file))) != tmp_path:
        pytest.skip("a pyproject.toml above the temporary folder")
    assert project_root(SourceLocation("top", "t", str(init_file))) == tmp_path
    monkeypatch.chdir(tmp_path / "top")
    assert project_root(SourceLocation("__main__", "t", str(module_file))) == tmp_path / "top"
    assert project_root(SourceLocation("__main__", "t", "<stdin>")) == tmp_path / "top"
    assert project_root(None) == tmp_path / "top"


def test_catalog_reference_picks_the_project_that_names_it(project: Path) -> None:
    nested = project / "notebooks" / "deep"
    (nested / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert project_root_for(REFERENCE, nested) == project
    assert project_root_for("other.mod:catalog", nested) == nested
    assert project_root_for(None, project.parent / "elsewhere") in (None, *project.parents)


def _env(pythonpath: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    run = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_snippets_run_as_printed_from_any_folder(project: Path) -> None:
    """Inside the project the pyproject.toml finds it; outside, it is on PYTHONPATH."""
    snippets = table_snippets(REFERENCE, "shop", "orders", columns=["o_id", "amount"])
    check = "\nassert sorted(df['o_id'].to_list()) == [1, 2, 3], df\n"
    places = [
        (project, None),
        (project / "notebooks" / "deep", None),
        (project.parent / "elsewhere", project),
    ]
    for cwd, pythonpath in places:
        for code in (snippets.python, snippets.sql):
            _run([sys.executable, "-c", code + check], cwd, _env(pythonpath))
        cli = snippets.cli.split()
        assert cli[:4] == ["neuralake", "-c", REFERENCE, "query"]
        out = _run(
            [sys.executable, "-m", "neuralake", "-c", REFERENCE, "query",
             snippets.sql_query, "--format", "csv"],
            cwd, _env(pythonpath),
        )  # fmt: skip
        assert out.splitlines()[0] == "o_id,amount"
        assert sorted(line.split(",")[0] for line in out.splitlines()[1:]) == ["1", "2", "3"]


def test_cli_finds_the_configured_catalog_from_a_subfolder(project: Path) -> None:
    out = _run(
        [sys.executable, "-m", "neuralake", "tables", "--json"],
        project / "notebooks" / "deep",
        _env(),
    )
    assert "shop.orders" in out
