"""The root command line: ``-c/--catalog``, ``--version``, ``--json``, errors and pipes.

Every test runs ``python -m neuralake`` in a subprocess, as a user does.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import neuralake
from neuralake.cli.errors import EXIT_CODES

CATALOG_MODULE = """
import polars as pl
from neuralake import Catalog, Database, FunctionTable, ParquetTable

def nation() -> pl.LazyFrame:
    '''Nations; a [bold]markup[/bold] lookalike stays text.'''
    return pl.LazyFrame({"n_nationkey": [0, 1], "n_name": ["ALGERIA", "ARGENTINA"]})

part = ParquetTable("part", "LAKE/part", owner="data-eng", tags=["tpch"])
catalog = Catalog({"tpch": Database([FunctionTable(nation, owner="[red]geo[/red]"), part])},
                  name="root_test")
big = Catalog({"many": Database([FunctionTable(nation, name=f"t{i:05d}", owner="x" * 40)
                                 for i in range(3000)])})
"""
REF = "root_catalog:catalog"
NOT_DELTA = (
    "error: tpch.part is a parquet table, not a Delta table "
    "(history, vacuum, optimize and restore need a Delta table)"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    (lake / "part").mkdir(parents=True)
    pl.DataFrame({"p_partkey": [1, 2]}).write_parquet(lake / "part" / "0.parquet")
    source = CATALOG_MODULE.replace("LAKE", str(lake))
    (tmp_path / "root_catalog.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return tmp_path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuralake", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_version() -> None:
    done = run(Path.cwd(), "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"neuralake {importlib.metadata.version('neuralake')}\n"
    assert importlib.metadata.version("neuralake") == neuralake.__version__


def test_help_documents_every_exit_code() -> None:
    done = run(Path.cwd(), "--help")
    assert done.returncode == 0, done.stderr
    for code, text in EXIT_CODES:
        assert f"  {int(code):<4} {text}" in done.stdout
    assert "-c REF, --catalog REF" in done.stdout


def test_catalog_option_matches_the_positional_and_pyproject(project: Path) -> None:
    short = run(project, "-c", REF, "tables", "--json")
    long = run(project, f"--catalog={REF}", "tables", "--json")
    positional = run(project, "tables", REF, "--json")
    (project / "pyproject.toml").write_text(f'[tool.neuralake]\ncatalog = "{REF}"\n')
    configured = run(project, "tables", "--json")
    assert short.returncode == 0, short.stderr
    assert short.stdout == long.stdout == positional.stdout == configured.stdout
    assert [r["qualified_name"] for r in json.loads(short.stdout)] == ["tpch.nation", "tpch.part"]
    described = run(project, "-c", REF, "describe", "tpch.part", "--json")
    assert json.loads(described.stdout)["qualified_name"] == "tpch.part"


def test_positional_catalog_is_a_deprecated_alias(project: Path) -> None:
    old = run(project, "describe", REF, "tpch.part")
    assert old.returncode == 0, old.stderr
    assert old.stderr.splitlines() == [
        f"note: the positional CATALOG is deprecated; -c/--catalog is preferred: "
        f"neuralake -c {REF} describe ..."
    ]
    new = run(project, "-c", REF, "describe", "tpch.part")
    assert new.stderr == ""
    assert new.stdout == old.stdout


def test_json_is_stable(project: Path) -> None:
    for args in (["tables"], ["describe", "tpch.nation"], ["check"]):
        first = run(project, "-c", REF, *args, "--json")
        second = run(project, "-c", REF, *args, "--json")
        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout
        assert first.stdout.endswith("}\n") or first.stdout.endswith("]\n")
        data = json.loads(first.stdout)
        assert first.stdout == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    rows = json.loads(run(project, "-c", REF, "tables", "--json").stdout)
    assert list(rows[0]) == ["qualified_name", "type", "owner", "tags", "deprecated"]


def test_text_in_a_pipe_is_plain_and_aligned(project: Path) -> None:
    lines = run(project, "-c", REF, "tables").stdout.splitlines()
    assert lines[0].split() == ["TABLE", "TYPE", "OWNER", "TAGS", "DEPRECATED"]
    assert lines[1].split() == ["tpch.nation", "function", "[red]geo[/red]", "-", "-"]
    assert lines[2].split() == ["tpch.part", "parquet", "data-eng", "tpch", "-"]
    assert lines[1].index("function") == lines[2].index("parquet") == lines[0].index("TYPE")
    assert "\x1b[" not in "".join(lines)


def test_text_on_a_terminal_is_a_rich_table(project: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuralake", "-c", REF, "tables"], cwd=project,
        stdout=follower, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    out = b"".join(chunks).decode()
    assert "─" in out  # rich's header rule
    assert "[red]geo[/red]" in out  # catalog text is never read as markup


def test_not_a_delta_table_is_one_line_and_exit_4(project: Path) -> None:
    for command in (["history"], ["vacuum"], ["optimize"], ["restore"]):
        args = [*command, "tpch.part", *(["1"] if command == ["restore"] else [])]
        done = run(project, "-c", REF, "delta", *args)
        assert done.returncode == 4, done.stderr
        assert done.stderr.splitlines() == [NOT_DELTA]
        assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "starts"),
    [
        (["-c", REF, "describe", "tpch.prat"], 3, "error: TableNotFoundError: "),
        (["-c", REF, "describe"], 2, "error: neuralake describe needs db.table"),
        (["-c", REF, "tables", "--bogus"], 2, "error: unrecognized arguments: --bogus"),
        (["-c", REF, "-c", REF, "tables"], 2, "error: this command takes one catalog"),
        (["-c", REF, "tables", REF], 2, "error: the catalog was given twice"),
        (["-c", "nope:catalog", "tables"], 3, "error: CatalogLoadError: "),
        (["-c", "nope", "tables"], 2, "error: catalog reference 'nope' must look like"),
        (["-c", REF, "query", "SELECT * FROM tpch.part", "--format", "parquet"], 2,
         "error: --format parquet needs --output FILE"),
        ([], 2, "error: the following arguments are required: COMMAND"),
    ],
)  # fmt: skip
def test_every_failure_is_one_line(project: Path, args: list[str], code: int, starts: str) -> None:
    done = run(project, *args)
    assert done.returncode == code, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(starts), done.stderr


def test_debug_shows_the_traceback(project: Path) -> None:
    done = run(project, "--debug", "-c", REF, "describe", "tpch.prat")
    assert done.returncode == 3
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert done.stderr.splitlines()[-1].startswith("error: TableNotFoundError: ")


def test_dash_means_stdout(project: Path) -> None:
    export = run(project, "-c", REF, "export", "--out", "-")
    assert export.returncode == 0, export.stderr
    assert [t["qualified_name"] for t in json.loads(export.stdout)["tables"]] == [
        "tpch.nation", "tpch.part",
    ]  # fmt: skip
    assert export.stderr.startswith("wrote -: 2 tables")
    query = run(project, "-c", REF, "query", "SELECT n_name FROM tpch.nation ORDER BY n_name",
                "--format", "csv", "--output", "-")  # fmt: skip
    assert query.stdout.splitlines() == ["n_name", "ALGERIA", "ARGENTINA"]


def test_closed_stdout_is_not_a_traceback(project: Path) -> None:
    piped = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m neuralake -c root_catalog:big tables --json | head -1'],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert piped.stdout == "[\n"
    assert piped.stderr == ""
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuralake", "-c", "root_catalog:big", "tables"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # nobody reads: the first write fails with EPIPE
    assert proc.wait(timeout=120) == 141
    assert proc.stderr.read() == b""
