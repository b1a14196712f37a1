"""The one output layer: commands return data, and this module prints it as text or JSON.

Text goes to a terminal as rich tables and to a pipe as plain aligned columns. JSON is stable:
two-space indent, keys in the order the command built them, UTF-8, one trailing newline.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.cli.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

STDOUT = "-"


@dataclass(frozen=True)
class Listing:
    """Records shown as a table of ``columns`` (``(key, header)`` pairs) or as a JSON list."""

    records: Sequence[Mapping[str, Any]]
    columns: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Report:
    """A result: ``data`` is its JSON form; ``lines`` (then ``listing``) its text form.

    ``notes`` go to stderr in both modes (e.g. tables that were skipped), so stdout stays
    parseable. ``exit_code`` lets a command that ran report findings (``check``).
    """

    data: Any
    lines: Sequence[str] = ()
    listing: Listing | None = None
    notes: Sequence[str] = ()
    exit_code: int = 0


@dataclass(frozen=True)
class Frame:
    """Query rows in a format of their own (``--format``), to a file or stdout (``-``)."""

    df: pl.DataFrame
    fmt: str = "table"
    path: str | None = None


Result = Listing | Report | Frame


def dumps(data: Any) -> str:
    """The stable JSON form of a result."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def render(result: Result | None, *, as_json: bool = False) -> int:
    """Print ``result`` to stdout (JSON when ``as_json``); return its exit code."""
    if result is None:
        return 0
    if isinstance(result, Frame):
        write_frame(result.df, result.fmt, result.path)
        return 0
    if isinstance(result, Listing):
        if as_json:
            sys.stdout.write(dumps(list(result.records)))
        else:
            _print_listing(result)
        return 0
    for note in result.notes:
        print(note, file=sys.stderr)
    if as_json:
        if result.data is not None:  # None: the command already wrote its output
            sys.stdout.write(dumps(result.data))
        return result.exit_code
    for line in result.lines:
        print(line)
    if result.listing is not None:
        if result.lines:
            print()
        _print_listing(result.listing)
    return result.exit_code


def cell(value: Any) -> str:
    """One value as table text: ``-`` for nothing, lists comma-separated."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return str(value)


def _print_listing(listing: Listing) -> None:
    headers = [header for _, header in listing.columns]
    rows = [[cell(r.get(key)) for key, _ in listing.columns] for r in listing.records]
    if sys.stdout.isatty():
        _print_rich(headers, rows)
        return
    widths = [max(len(c) for c in col) for col in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _print_rich(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    # Imported here: rich costs ~0.1 s, and pipes never need it.
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(*headers, box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for row in rows:
        table.add_row(*(Text(c) for c in row))  # Text: catalog strings are never markup
    Console(highlight=False, emoji=False).print(table)


def write_frame(df: pl.DataFrame, fmt: str, path: str | None) -> None:
    """Write query rows as ``table``/``csv``/``json``/``parquet``; ``None`` or ``-`` is stdout."""
    import polars as pl

    if fmt == "parquet":
        if path is None:
            raise UsageError("--format parquet needs --output FILE (or - for stdout)")
        if path != STDOUT:
            df.write_parquet(path)
            return
        if sys.stdout.isatty():
            raise UsageError("refusing to write Parquet to a terminal; pass --output FILE")
        sys.stdout.flush()
        df.write_parquet(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    if fmt == "csv":
        text = df.write_csv()
    elif fmt == "json":
        text = df.write_json() + "\n"
    else:
        with pl.Config(tbl_rows=50, tbl_cols=-1, tbl_width_chars=200):
            text = f"{df}\n"
    write_text(text, path)


def write_text(text: str, path: str | Path | None) -> None:
    """Write ``text`` to ``path``, or to stdout when ``path`` is ``None`` or ``-``."""
    if path is None or str(path) == STDOUT:
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")
