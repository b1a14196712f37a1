"""The command line, run as a user runs it: ``python -m neuralake`` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]

CATALOG_MODULE = """
import polars as pl
from neuralake import Catalog, Database, Filter, FunctionTable, ParquetTable, Partition

def nation() -> pl.LazyFrame:
    '''Nations of the world.'''
    return pl.LazyFrame({"n_nationkey": [0, 1, 2], "n_name": ["ALGERIA", "ARGENTINA", "BRAZIL"]})

part = ParquetTable("part", "LAKE/part", partitioning=[Partition("p_brand")], owner="data-eng",
                    tags=["tpch"], column_docs={"p_partkey": "Primary key"},
                    docs_filters=[Filter("p_brand", "=", "Brand#13")])
catalog = Catalog({"tpch": Database([FunctionTable(nation, owner="geo"), part])}, name="cli_test")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    pl.DataFrame(
        {"p_partkey": [1, 2, 3], "p_brand": ["Brand#13", "Brand#21", "Brand#13"]}
    ).write_parquet(lake / "part", partition_by=["p_brand"])
    source = CATALOG_MODULE.replace("LAKE", str(lake))
    (tmp_path / "shop_catalog.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.neuralake]\ncatalog = "shop_catalog:catalog"\n', encoding="utf-8"
    )
    return tmp_path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuralake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_tables_json_is_stable_and_reads_pyproject(project: Path) -> None:
    explicit = run(project, "-c", "shop_catalog:catalog", "tables", "--json")
    positional = run(project, "tables", "shop_catalog:catalog", "--json")  # deprecated form
    configured = run(project, "tables", "--json")
    assert explicit.returncode == 0, explicit.stderr
    assert explicit.stdout == configured.stdout == positional.stdout
    rows = json.loads(explicit.stdout)
    assert [r["qualified_name"] for r in rows] == ["tpch.nation", "tpch.part"]
    assert rows[1] == {
        "qualified_name": "tpch.part",
        "type": "parquet",
        "owner": "data-eng",
        "tags": ["tpch"],
        "deprecated": None,
    }


def test_describe_text_and_json(project: Path) -> None:
    text = run(project, "describe", "tpch.part")
    assert text.returncode == 0, text.stderr
    assert "tpch.part  (parquet)" in text.stdout
    assert "p_partkey" in text.stdout
    assert "Primary key" in text.stdout
    meta = json.loads(
        run(project, "describe", "shop_catalog:catalog", "tpch.part", "--json").stdout
    )
    assert meta["partitions"] == ["p_brand"]
    assert meta["docs_filters"] == [{"column": "p_brand", "op": "=", "value": "Brand#13"}]


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("csv", lambda out: out.splitlines() == ["n_name", "ARGENTINA", "BRAZIL"]),
        ("json", lambda out: json.loads(out) == [{"n_name": "ARGENTINA"}, {"n_name": "BRAZIL"}]),
        ("table", lambda out: "ARGENTINA" in out and "shape: (2, 1)" in out),
    ],
)
def test_query_formats(project: Path, fmt: str, check: object) -> None:
    sql = "SELECT n_name FROM tpch.nation WHERE n_nationkey > 0 ORDER BY n_name"
    done = run(project, "query", sql, "--format", fmt)
    assert done.returncode == 0, done.stderr
    assert check(done.stdout)  # type: ignore[operator]


def test_query_parquet_output_and_limit(project: Path) -> None:
    out = project / "parts.parquet"
    done = run(
        project, "query", "SELECT * FROM tpch.part ORDER BY p_partkey", "--format", "parquet",
        "--output", str(out), "--limit", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert pl.read_parquet(out)["p_partkey"].to_list() == [1, 2]


def test_export_writes_versioned_json(project: Path) -> None:
    out = project / "out" / "catalog.json"
    done = run(project, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["format_version"] == 1
    assert [t["qualified_name"] for t in data["tables"]] == ["tpch.nation", "tpch.part"]


def test_errors_are_named_and_helpful(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    missing = run(project, "describe", "tpch.prat")
    assert missing.returncode == 3
    assert "TableNotFoundError" in missing.stderr
    assert "'part'" in missing.stderr
    bad_ref = run(project, "tables", "no_such_module:catalog")
    assert bad_ref.returncode == 3
    assert "CatalogLoadError" in bad_ref.stderr
    bad_option = run(project, "-c", "no_such_module:catalog", "tables")
    assert bad_option.returncode == 3
    assert "CatalogLoadError" in bad_option.stderr
    elsewhere = tmp_path_factory.mktemp("empty")
    no_config = run(elsewhere, "tables")
    assert no_config.returncode == 2
    assert "[tool.neuralake]" in no_config.stderr


def test_demo_generates_the_lake_and_runs_a_query(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuralake",
            "demo",
            "--scale",
            "0.01",
            "--lake",
            str(tmp_path / "lake"),
            "--no-site",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "tpch.lineitem" in done.stdout
    assert "o_orderyear" in done.stdout
    assert "revenue" in done.stdout
