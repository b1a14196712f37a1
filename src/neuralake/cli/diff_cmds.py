"""``diff``: what a change to the catalog code changes for its readers (for pull requests).

``diff BASE.json HEAD.json`` compares two exports; ``diff --git REF`` exports the catalog as it
is at ``REF`` (in a temporary ``git worktree``, in a child process, so the two versions of the
catalog module never meet in one interpreter) and compares it with the working tree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.cli.errors import CliError, ExitCode, NotFoundError, UsageError
from neuralake.cli.options import command, json_parent
from neuralake.cli.output import STDOUT, Report, dumps, write_text

if TYPE_CHECKING:
    from neuralake.cli.context import Context
    from neuralake.cli.options import Subparsers
    from neuralake.export.diff import CatalogDiff


def load_export(path: str) -> dict[str, Any]:
    """Read an export file (``-`` is stdin), checking its format version."""
    from neuralake.export.diff import check_format

    if path == STDOUT:
        text, label = sys.stdin.read(), "stdin"
    else:
        file = Path(path)
        if not file.is_file():
            raise NotFoundError(f"export file {path} not found (write one with neuralake export)")
        text, label = file.read_text(encoding="utf-8"), path
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{label} is not valid JSON: {exc}", ExitCode.INVALID_INPUT) from exc
    return dict(check_format(data, label))


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def export_at_ref(reference: str, ref: str, cwd: Path | None = None) -> dict[str, Any]:
    """The export of catalog ``reference`` as committed at git ``ref``.

    The ref is checked out in a temporary detached worktree (removed afterwards, also on
    failure) and ``python -m neuralake -c REFERENCE export --out -`` runs there, from the folder
    matching ``cwd``, with the worktree first on ``PYTHONPATH``. Paths inside the worktree are
    mapped back to the working tree, so locations compare equal across the two exports.
    """
    from neuralake.export.diff import check_format

    here = (cwd or Path.cwd()).resolve()
    if shutil.which("git") is None:
        raise UsageError("diff --git needs git on PATH")
    top = _git(here, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"diff --git needs a git repository: {here} is not in one")
    root = Path(top.stdout.strip()).resolve()
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise NotFoundError(f"git ref {ref!r} not found (fetch it first, e.g. git fetch origin)")
    tmp = Path(tempfile.mkdtemp(prefix="neuralake-diff-"))
    tree = tmp / "tree"
    try:
        added = _git(root, "worktree", "add", "--detach", str(tree), ref)
        if added.returncode != 0:
            raise CliError(f"git worktree add failed: {_last_line(added.stderr)}", ExitCode.USAGE)
        folder = tree / here.relative_to(root)
        path = [str(folder), str(tree), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}
        done = subprocess.run(
            [sys.executable, "-m", "neuralake", "-c", reference, "export", "--out", STDOUT],
            cwd=folder if folder.is_dir() else tree, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            code = done.returncode if done.returncode in set(ExitCode) else ExitCode.INTERNAL
            raise CliError(f"export at {ref} failed: {_last_line(done.stderr)}", ExitCode(code))
        try:
            data = json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise CliError(
                f"export at {ref} is not valid JSON: {exc}", ExitCode.INVALID_INPUT
            ) from exc
        return dict(check_format(_relocate(data, str(tree), str(root)), f"export at {ref}"))
    finally:
        _git(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tmp, ignore_errors=True)
        _git(root, "worktree", "prune")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ") if lines else "no output"


def _relocate(data: Any, old: str, new: str) -> Any:
    """``data`` with table locations and source files under ``old`` moved under ``new``."""
    for table in data.get("tables", ()) if isinstance(data, Mapping) else ():
        if not isinstance(table, dict):
            continue
        location = table.get("location")
        if isinstance(location, str) and location.startswith(old):
            table["location"] = new + location[len(old) :]
        source = table.get("source")
        file = source.get("file") if isinstance(source, dict) else None
        if isinstance(source, dict) and isinstance(file, str) and file.startswith(old):
            source["file"] = new + source["file"][len(old) :]
    return data


def compute(ns: argparse.Namespace, ctx: Context) -> CatalogDiff:
    from neuralake.export.diff import diff_catalogs

    if ns.git is not None:
        if ns.base is not None or ns.head is not None:
            raise UsageError("diff takes BASE.json HEAD.json or --git REF, not both")
        base = export_at_ref(ctx.reference(), ns.git)
        return diff_catalogs(base, ctx.catalog().export_metadata())
    if ns.base is None or ns.head is None:
        raise UsageError("diff needs BASE.json HEAD.json, or --git REF (see neuralake diff --help)")
    if ns.base == STDOUT and ns.head == STDOUT:
        raise UsageError("only one of BASE.json and HEAD.json can be - (stdin)")
    return diff_catalogs(load_export(ns.base), load_export(ns.head))


def cmd_diff(ns: argparse.Namespace, ctx: Context) -> Report:
    diff = compute(ns, ctx)
    text = dumps(diff.to_dict()) if ctx.as_json else diff.to_markdown()
    if ns.out is None or ns.out == STDOUT:
        write_text(text, STDOUT)
        return Report(None)
    write_text(text, ns.out)
    summary = diff.summary()
    line = f"wrote {ns.out}: {diff.summary_line()}"
    return Report({"out": ns.out, **summary}, [line])


def register(sub: Subparsers) -> None:
    p = command(sub, "diff", cmd_diff, "compare two catalog exports, or the catalog at a git "
                "ref with the working tree (Markdown for a pull request)", [json_parent()])  # fmt: skip
    p.add_argument("base", nargs="?", metavar="BASE.json", help="the export before (- is stdin)")
    p.add_argument("head", nargs="?", metavar="HEAD.json", help="the export after (- is stdin)")
    p.add_argument("--git", metavar="REF",
                   help="compare the catalog at git REF with the working tree")  # fmt: skip
    p.add_argument("--out", metavar="FILE", help="write to FILE (- for stdout, the default)")
