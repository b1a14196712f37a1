"""`neuralake delta ...` and `neuralake check` through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

CATALOG = """
import polars as pl
import pyarrow as pa
from neuralake import Catalog, Database, NeuralakeDeltaTable

orders = NeuralakeDeltaTable(
    "orders", {uri!r},
    schema=pa.schema([("id", pa.int64()), ("part", pa.string())]),
    partition_by=["part"],
)
catalog = Catalog({{"shop": Database([orders])}}, name="cli")
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "neuralake", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    uri = str(tmp_path / "lake" / "orders")
    (tmp_path / "cli_catalog.py").write_text(textwrap.dedent(CATALOG.format(uri=uri)))
    sys.path.insert(0, str(tmp_path))
    try:
        import cli_catalog

        for i in range(3):
            cli_catalog.orders.write(pl.DataFrame({"id": [i], "part": ["p"]}))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("cli_catalog", None)
    return tmp_path


REF = "cli_catalog:catalog"
CAT = ("-c", REF)


def test_history(project: Path) -> None:
    out = run(project, *CAT, "delta", "history", "shop.orders", "--json", "--limit", "2")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["version"] for r in rows] == [2, 1]
    assert rows[0]["operation"] == "WRITE"
    text = run(project, "delta", "history", REF, "shop.orders")
    assert text.returncode == 0
    assert "WRITE" in text.stdout


def test_optimize_vacuum_restore(project: Path) -> None:
    out = run(project, *CAT, "delta", "optimize", "shop.orders", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["version"], data["files_removed"], data["files_added"]) == (3, 3, 1)

    out = run(project, *CAT, "delta", "vacuum", "shop.orders", "--retention-hours", "0")
    assert out.returncode == 4
    assert "below the table's minimum" in out.stderr
    args = [*CAT, "delta", "vacuum", "shop.orders", "--retention-hours", "0"]
    out = run(project, *args, "--no-enforce-retention")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        "shop.orders: would delete (dry run; pass --execute to delete) 3 files"
    )

    out = run(project, *CAT, "delta", "restore", "shop.orders", "1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "shop.orders: restored version 1 as version 4"
    out = run(project, *CAT, "delta", "restore", "shop.orders", "4", "--json")
    assert json.loads(out.stdout)["changed"] is False
    out = run(project, "delta", "restore", REF, "shop.orders", "99")
    assert out.returncode == 4
    assert "has no version 99 (versions 0..4)" in out.stderr


def test_check_clean_and_drift(project: Path) -> None:
    out = run(project, "check", REF)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "ok     shop.orders",
        "1 tables checked: 0 with drift, 0 errors, 0 warnings",
    ]
    catalog = project / "cli_catalog.py"
    catalog.write_text(catalog.read_text().replace('("id", pa.int64())', '("id", pa.string())'))
    out = run(project, *CAT, "check")
    assert out.returncode == 7
    assert out.stdout.splitlines() == [
        "DRIFT  shop.orders",
        "         error    type_mismatch  column 'id' is declared string but storage has int64 "
        "(no safe cast)",
        "1 tables checked: 1 with drift, 1 errors, 0 warnings",
    ]
    report = json.loads(run(project, *CAT, "check", "--json").stdout)
    assert report["ok"] is False
    assert report["issues"][0] == {
        "table": "shop.orders",
        "kind": "type_mismatch",
        "column": "id",
        "declared": "string",
        "actual": "int64",
        "severity": "error",
        "message": "shop.orders: column 'id' is declared string but storage has int64 "
        "(no safe cast)",
    }
