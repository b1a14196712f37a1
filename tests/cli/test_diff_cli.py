"""``neuralake diff`` and ``check --against``, run as a user does (``python -m neuralake``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from neuralake.cli.errors import ExitCode
from neuralake.metadata import FORMAT_VERSION

BASE_MODULE = """
import polars as pl
from neuralake import Catalog, Database, FunctionTable, ParquetTable

def orders() -> pl.LazyFrame:
    '''Orders.'''
    return pl.LazyFrame()

def customers() -> pl.LazyFrame:
    return pl.LazyFrame()

catalog = Catalog({"shop": Database([
    FunctionTable(orders, schema={"id": pl.Int32, "note": pl.String}, owner="sales"),
    FunctionTable(customers, schema={"id": pl.Int64}),
    ParquetTable("items", "lake/items", schema={"sku": pl.String}),
])}, name="shop")
"""

HEAD_MODULE = """
import polars as pl
from neuralake import Catalog, Database, FunctionTable, ParquetTable

def orders() -> pl.LazyFrame:
    '''Orders | <b>now</b> with `regions`.'''
    return pl.LazyFrame()

def refunds() -> pl.LazyFrame:
    return pl.LazyFrame()

catalog = Catalog({"shop": Database([
    FunctionTable(orders, schema={"id": pl.Int64, "region": pl.String}, owner="finance"),
    FunctionTable(refunds, schema={"id": pl.Int64}),
    ParquetTable("line_items", "lake/items", schema={"sku": pl.String}),
])}, name="shop")
"""

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip


def run(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuralake", *args],
        cwd=cwd, capture_output=True, text=True, timeout=180, input=stdin,
    )  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV}, timeout=60)  # fmt: skip
    return done.stdout


def assert_one_line(done: subprocess.CompletedProcess[str], code: ExitCode, starts: str) -> None:
    assert done.returncode == code, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(starts), done.stderr
    assert "Traceback" not in done.stderr


def write_module(project: Path, source: str) -> None:
    (project / "shopcat.py").write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose catalog module is at its base version (no data: schemas are declared)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.neuralake]\ncatalog = "shopcat:catalog"\n', encoding="utf-8"
    )
    write_module(root, BASE_MODULE)
    return root


@pytest.fixture
def exports(project: Path) -> tuple[Path, Path]:
    base, head = project / "base.json", project / "head.json"
    assert run(project, "export", "--out", str(base)).returncode == 0
    write_module(project, HEAD_MODULE)
    assert run(project, "export", "--out", str(head)).returncode == 0
    return base, head


def test_diff_prints_markdown(exports: tuple[Path, Path]) -> None:
    base, head = exports
    done = run(base.parent, "diff", str(base), str(head))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "3 breaking, 5 other changes in 4 tables" in text
    assert "| `shop.line_items` | table renamed | - | `shop.items` | `shop.line_items` |" in text
    assert "| `shop.orders` | column removed | `note` | `string` | - |" in text
    assert "| `shop.orders` | column retyped | `id` | `int32` | `int64` |" in text
    assert "<b>" not in text
    assert "Orders \\| &lt;b&gt;now&lt;/b&gt; with \\`regions\\`." in text


def test_diff_json_is_stable_and_goes_to_out(exports: tuple[Path, Path]) -> None:
    base, head = exports
    first = run(base.parent, "diff", str(base), str(head), "--json")
    second = run(base.parent, "diff", str(base), str(head), "--json", "--out", "-")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["summary"]["breaking"] == 3
    out = base.parent / "diff.md"
    written = run(base.parent, "diff", str(base), str(head), "--out", str(out))
    assert written.returncode == 0
    assert written.stdout.startswith(f"wrote {out}: 3 breaking")
    assert out.read_text(encoding="utf-8") == run(base.parent, "diff", str(base), str(head)).stdout
    from_stdin = run(base.parent, "diff", "-", str(head), "--json", stdin=base.read_text())
    assert from_stdin.stdout == first.stdout


def test_diff_errors_are_one_line(exports: tuple[Path, Path]) -> None:
    base, head = exports
    cwd = base.parent
    assert_one_line(run(cwd, "diff", "missing.json", str(head)), ExitCode.NOT_FOUND,
                    "error: export file missing.json not found")  # fmt: skip
    bad = cwd / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert_one_line(run(cwd, "diff", str(bad), str(head)), ExitCode.INVALID_INPUT,
                    f"error: {bad} is not valid JSON")  # fmt: skip
    newer = cwd / "newer.json"
    newer.write_text(json.dumps({"format_version": FORMAT_VERSION + 1, "tables": []}))
    assert_one_line(run(cwd, "diff", str(newer), str(head)), ExitCode.INVALID_INPUT,
                    "error: ExportFormatError: ")  # fmt: skip
    assert_one_line(run(cwd, "diff", str(base)), ExitCode.USAGE, "error: diff needs BASE.json")
    assert_one_line(run(cwd, "diff", str(base), str(head), "--git", "HEAD"), ExitCode.USAGE,
                    "error: diff takes BASE.json HEAD.json or --git REF")  # fmt: skip


def test_check_against_exit_codes(project: Path) -> None:
    base = project / "base.json"
    assert run(project, "export", "--out", str(base)).returncode == 0
    same = run(project, "check", "--against", str(base))
    assert same.returncode == ExitCode.OK, same.stderr
    assert "0 breaking, 0 other changes" in same.stdout
    write_module(project, HEAD_MODULE)
    broken = run(project, "check", "--against", str(base))
    assert broken.returncode == ExitCode.FINDINGS, broken.stderr
    assert "shop.orders: column note removed (was string)" in broken.stdout
    assert "shop.customers: table shop.customers removed" in broken.stdout
    assert "shop.line_items: table renamed from shop.items to shop.line_items" in broken.stdout
    as_json = run(project, "check", "--against", str(base), "--json")
    assert as_json.returncode == ExitCode.FINDINGS
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert data["summary"]["breaking"] == 3
    assert_one_line(run(project, "check", "--against", "nope.json"), ExitCode.NOT_FOUND,
                    "error: export file nope.json not found")  # fmt: skip
    (project / "bad.json").write_text("[", encoding="utf-8")
    assert_one_line(run(project, "check", "--against", "bad.json"), ExitCode.INVALID_INPUT,
                    "error: bad.json is not valid JSON")  # fmt: skip


def test_check_without_against_keeps_its_behaviour(project: Path) -> None:
    done = run(project, "check", "--json")
    assert done.returncode in (ExitCode.OK, ExitCode.FINDINGS), done.stderr
    assert "summary" not in json.loads(done.stdout)


@pytest.fixture
def repo(project: Path) -> Path:
    """The project as a git repository: the base module committed, then the head module."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "pyproject.toml", "shopcat.py")
    git(project, "commit", "-q", "-m", "base catalog")
    write_module(project, HEAD_MODULE)
    git(project, "commit", "-q", "-am", "head catalog")
    return project


def test_diff_git_compares_a_ref_with_the_working_tree(repo: Path) -> None:
    done = run(repo, "diff", "--git", "HEAD~1")
    assert done.returncode == 0, done.stderr
    assert "3 breaking, 5 other changes in 4 tables" in done.stdout
    # Relative locations resolve inside the worktree, and are mapped back: a rename, not two.
    assert "| `shop.line_items` | table renamed | - | `shop.items` | `shop.line_items` |" in (
        done.stdout
    )
    assert git(repo, "worktree", "list").count("\n") == 1  # the temporary worktree is gone
    same = run(repo, "-c", "shopcat:catalog", "diff", "--git", "HEAD", "--json")
    assert same.returncode == 0
    assert json.loads(same.stdout)["changes"] == []
    sub = repo / "sub"
    sub.mkdir()
    from_sub = run(sub, "diff", "--git", "HEAD~1")  # the catalog is found from a subfolder too
    assert from_sub.returncode == 0, from_sub.stderr
    assert from_sub.stdout == done.stdout


def test_diff_git_failures_are_one_line_and_clean_up(repo: Path, tmp_path: Path) -> None:
    assert_one_line(run(repo, "diff", "--git", "no-such-ref"), ExitCode.NOT_FOUND,
                    "error: git ref 'no-such-ref' not found")  # fmt: skip
    # The catalog attribute is missing at the ref: the child's error, one line, its code.
    (repo / "shopcat.py").write_text(
        (repo / "shopcat.py").read_text() + "\nother = catalog\n", encoding="utf-8"
    )
    missing = run(repo, "-c", "shopcat:other", "diff", "--git", "HEAD")
    assert_one_line(missing, ExitCode.NOT_FOUND, "error: export at HEAD failed: CatalogLoadError")
    assert git(repo, "worktree", "list").count("\n") == 1
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyproject.toml").write_text('[tool.neuralake]\ncatalog = "x:y"\n')
    if subprocess.run(["git", "rev-parse"], cwd=outside, capture_output=True).returncode != 0:
        assert_one_line(run(outside, "diff", "--git", "HEAD"), ExitCode.USAGE,
                        "error: diff --git needs a git repository")  # fmt: skip
