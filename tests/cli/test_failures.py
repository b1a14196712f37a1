"""The failures a new user meets first: each is one ``error:`` line and a documented exit code.

Every test runs ``python -m neuralake`` in a subprocess, as a user does.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml

from neuralake.cli.errors import ExitCode

CATALOG_MODULE = """
import polars as pl
from neuralake import Catalog, Database, FunctionTable, ParquetTable

def nation() -> pl.LazyFrame:
    '''Nations.'''
    return pl.LazyFrame({"n_nationkey": [0, 1], "n_name": ["ALGERIA", "ARGENTINA"]})

part = ParquetTable("part", "LAKE/part", owner="data-eng")
catalog = Catalog({"tpch": Database([FunctionTable(nation), part])}, name="failures")
big = Catalog({"many": Database([FunctionTable(nation, name=f"t{i:05d}") for i in range(3000)])})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "lake" / "part").mkdir(parents=True)
    pl.DataFrame({"p_partkey": [1, 2]}).write_parquet(tmp_path / "lake" / "part" / "0.parquet")
    source = CATALOG_MODULE.replace("LAKE", str(tmp_path / "lake"))
    (tmp_path / "fail_catalog.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.neuralake]\ncatalog = "fail_catalog:catalog"\n', encoding="utf-8"
    )
    return tmp_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process (this test) is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuralake", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def assert_one_line(done: subprocess.CompletedProcess[str], code: ExitCode, starts: str) -> None:
    assert done.returncode == code, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(starts), done.stderr
    assert "Traceback" not in done.stderr


def test_missing_catalog_module_is_not_found(project: Path) -> None:
    done = run(project, "-c", "nosuch.module:cat", "tables")
    assert_one_line(done, ExitCode.NOT_FOUND, "error: CatalogLoadError: Cannot import 'nosuch")
    missing_attr = run(project, "-c", "fail_catalog:nosuch", "tables")
    assert_one_line(missing_attr, ExitCode.NOT_FOUND, "error: CatalogLoadError: ")
    not_a_catalog = run(project, "-c", "fail_catalog:nation", "tables")
    assert_one_line(not_a_catalog, ExitCode.INVALID_INPUT, "error: CatalogLoadError: ")


def test_unknown_table_in_describe_is_not_found(project: Path) -> None:
    done = run(project, "describe", "tpch.nosuch")
    assert_one_line(done, ExitCode.NOT_FOUND, "error: TableNotFoundError: ")
    db = run(project, "describe", "nosuch.part")
    assert_one_line(db, ExitCode.NOT_FOUND, "error: DatabaseNotFoundError: ")


def test_unknown_table_in_query_is_not_found(project: Path) -> None:
    done = run(project, "query", "SELECT * FROM tpch.nosuch")
    assert_one_line(done, ExitCode.NOT_FOUND, "error: TableNotFoundError: ")
    assert "tpch.part" in done.stderr  # the message lists the tables there are


@pytest.mark.parametrize(
    ("sql", "starts"),
    [
        ("SELEC 1", "error: SQLError: "),
        ("SELECT nope FROM tpch.part", "error: SQLError: "),
        ("DROP TABLE tpch.part", "error: SQLNotAllowedError: "),
        # Refused while planning or, at the latest, by Polars as the rows are computed.
        ("SELECT * FROM tpch.part WHERE p_partkey = 'x'", "error: "),
    ],
)
def test_bad_sql_is_invalid_input(project: Path, sql: str, starts: str) -> None:
    assert_one_line(run(project, "query", sql), ExitCode.INVALID_INPUT, starts)


def test_bad_reference_and_missing_config_are_usage(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bad = run(project, "-c", "fail_catalog", "tables")
    assert_one_line(bad, ExitCode.USAGE, "error: catalog reference 'fail_catalog' must look")
    unconfigured = run(tmp_path_factory.mktemp("empty"), "tables")
    assert_one_line(unconfigured, ExitCode.USAGE, "error: no catalog given")


def test_delta_command_on_a_parquet_table_is_invalid_input(project: Path) -> None:
    done = run(project, "delta", "history", "tpch.part")
    assert_one_line(done, ExitCode.INVALID_INPUT, "error: tpch.part is a parquet table")
    assert done.stdout == ""


def test_site_serve_without_a_site_folder_is_not_found(project: Path) -> None:
    done = run(project, "site", "serve", "nosuchdir")
    assert_one_line(done, ExitCode.NOT_FOUND, "error: no site folder at nosuchdir")
    assert "neuralake site build --out nosuchdir" in done.stderr


def test_site_serve_on_a_busy_port_is_usage(project: Path, busy_port: int) -> None:
    (project / "site").mkdir()
    done = run(project, "site", "serve", "site", "--port", str(busy_port))
    assert_one_line(done, ExitCode.USAGE, f"error: cannot listen on 127.0.0.1:{busy_port}")
    assert "pick another --port" in done.stderr


def test_demo_on_a_busy_port_fails_before_any_work(tmp_path: Path, busy_port: int) -> None:
    started = time.monotonic()
    done = run(tmp_path, "demo", "--lake", str(tmp_path / "lake"), "--port", str(busy_port))
    assert_one_line(done, ExitCode.USAGE, f"error: cannot listen on 127.0.0.1:{busy_port}")
    assert time.monotonic() - started < 30  # no lake generated, no site built
    assert not (tmp_path / "lake").exists()
    assert not (tmp_path / "site").exists()


def test_json_into_head_is_quiet(project: Path) -> None:
    piped = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m neuralake -c fail_catalog:big tables --json '
         '| head -c 10; echo "${PIPESTATUS[0]}" >&2'],
        cwd=project, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert piped.stdout == "[\n  {\n    "
    assert piped.stderr.strip() in {str(int(ExitCode.BROKEN_PIPE)), "0"}, piped.stderr


def test_version_is_the_installed_distribution(project: Path) -> None:
    from importlib.metadata import version

    done = run(project, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"neuralake {version('neuralake')}\n"
    assert done.stderr == ""


def test_dash_is_stdout_for_every_file_option(project: Path) -> None:
    export = run(project, "export", "--out", "-")
    assert export.returncode == 0, export.stderr
    assert [t["qualified_name"] for t in json.loads(export.stdout)["tables"]] == [
        "tpch.nation", "tpch.part",
    ]  # fmt: skip
    roapi = run(project, "roapi", "--out", "-")
    assert roapi.returncode == 0, roapi.stderr
    assert [t["name"] for t in yaml.safe_load(roapi.stdout)["tables"]] == ["tpch_part"]
    csv = run(project, "query", "SELECT n_name FROM tpch.nation ORDER BY n_name",
              "--format", "csv", "--output", "-")  # fmt: skip
    assert csv.stdout.splitlines() == ["n_name", "ALGERIA", "ARGENTINA"]
    parquet = subprocess.run(
        [sys.executable, "-m", "neuralake", "query", "SELECT * FROM tpch.part ORDER BY p_partkey",
         "--format", "parquet", "--output", "-"],
        cwd=project, capture_output=True, timeout=120,
    )  # fmt: skip
    assert parquet.returncode == 0, parquet.stderr
    assert pl.read_parquet(io.BytesIO(parquet.stdout))["p_partkey"].to_list() == [1, 2]
    assert not (project / "-").exists()


def test_site_build_refuses_stdout(project: Path) -> None:
    done = run(project, "site", "build", "--out", "-")
    assert_one_line(done, ExitCode.USAGE, "error: site build writes a folder")
    assert not (project / "-").exists()


def test_unexpected_errors_are_internal_with_a_hint(project: Path) -> None:
    (project / "crash_catalog.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    done = run(project, "-c", "crash_catalog:catalog", "tables")
    assert_one_line(done, ExitCode.INTERNAL, "error: RuntimeError: boom")
    assert done.stderr.rstrip().endswith("(rerun with --debug for the traceback)")
