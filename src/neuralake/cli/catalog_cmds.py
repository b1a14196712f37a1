"""``tables``, ``describe``, ``query``, ``export`` and ``check``: reading the catalog."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.cli.errors import ExitCode, UsageError
from neuralake.cli.options import command, json_parent, operands
from neuralake.cli.output import STDOUT, Frame, Listing, Report, write_text

if TYPE_CHECKING:
    from neuralake.cli.context import Context
    from neuralake.cli.options import Subparsers


def cmd_tables(ns: argparse.Namespace, ctx: Context) -> Listing:
    catalog = ctx.catalog()
    # Declarations only: listing never reads storage or runs table functions.
    records: list[dict[str, Any]] = [
        {"qualified_name": t.qualified_name, "type": t.table_type, "owner": t.owner,
         "tags": list(t.tags), "deprecated": t.deprecated}
        for t in catalog.tables(include_deprecated=ns.all)
    ]  # fmt: skip
    columns = [("qualified_name", "TABLE"), ("type", "TYPE"), ("owner", "OWNER"),
               ("tags", "TAGS"), ("deprecated", "DEPRECATED")]  # fmt: skip
    return Listing(records, columns)


def cmd_describe(ns: argparse.Namespace, ctx: Context) -> Report:
    from neuralake.export.entry import TableEntry

    # The export's typed entry: the same metadata and storage facts the JSON and the site show.
    meta = TableEntry.of(ctx.catalog().get_table(ns.table)).to_dict()
    lines = [f"{meta['qualified_name']}  ({meta['type']})"]
    for key in ("owner", "tags", "location", "partitions", "unique_columns", "deprecated",
                "reader"):  # fmt: skip
        if meta[key]:
            value = ", ".join(meta[key]) if isinstance(meta[key], list) else meta[key]
            lines.append(f"  {key}: {value}")
    if fresh := meta["freshness"]:
        lines.append(
            f"  version: {fresh['version']} ({fresh['operation'] or 'unknown operation'} at "
            f"{fresh['timestamp'] or 'unknown time'}), {fresh['num_files']} files, "
            f"{fresh['size_bytes']} bytes"
        )
    if meta["error"]:
        lines.append(f"  error: {meta['error']}")
    lines += _stats_lines(meta["stats"])
    if meta["description"]:
        lines += ["", meta["description"]]
    columns = [
        {"name": c["name"], "type": c["type"] + (" [partition]" if c["partition"] else ""),
         "description": c["description"]}
        for c in meta["columns"] or ()  # None: an unreadable table with no declared schema
    ]  # fmt: skip
    listing = Listing(columns, [("name", "COLUMN"), ("type", "TYPE"),
                                ("description", "DESCRIPTION")]) if columns else None  # fmt: skip
    return Report(meta, lines, listing)


def _stats_lines(stats: dict[str, Any] | None) -> list[str]:
    """Size and per-column min/max/nulls, as read from metadata (the Delta log or footers)."""
    if stats is None:
        return []
    shape = [f"{stats[k]} {k}" for k in ("rows", "files", "bytes", "partitions")
             if stats[k] is not None]  # fmt: skip
    source = f" (from {stats['source']})" if stats["source"] else ""
    lines = [f"  size: {', '.join(shape) or 'unknown'}{source}"]
    if stats["note"]:
        lines.append(f"  stats note: {stats['note']}")
    for c in stats["columns"]:
        bounds = "min/max unknown" if c["min"] is None else f"min {c['min']!r}, max {c['max']!r}"
        nulls = "nulls unknown" if c["null_count"] is None else f"{c['null_count']} nulls"
        note = f" [{c['note']}]" if c["note"] else ""
        lines.append(f"    {c['name']}: {bounds}, {nulls}{note}")
    return lines


def cmd_query(ns: argparse.Namespace, ctx: Context) -> Frame:
    if ns.engine == "daft":
        from neuralake.query import daft as daft_engine

        if ns.ray_address is not None:
            daft_engine.use_ray(ns.ray_address)
        frame = ctx.catalog().sql(ns.sql, allow_files=ns.allow_files, engine="daft")
        if ns.limit is not None:
            frame = frame.limit(ns.limit)
        df = pl.from_arrow(frame.to_arrow())
        assert isinstance(df, pl.DataFrame)  # a table converts to a frame
        return Frame(df, ns.format, ns.output)
    if ns.ray_address is not None:
        raise UsageError("--ray-address runs the Daft engine on Ray: add --engine daft.")
    lf = ctx.catalog().sql(ns.sql, allow_files=ns.allow_files)
    if ns.limit is not None:
        lf = lf.limit(ns.limit)
    return Frame(lf.collect(), ns.format, ns.output)


def cmd_export(ns: argparse.Namespace, ctx: Context) -> Report:
    from neuralake.export.metadata import dumps as export_dumps

    catalog = ctx.catalog()
    if ns.out == STDOUT:
        data = catalog.export_metadata()
        write_text(export_dumps(data), STDOUT)
    else:
        data = catalog.export_metadata(ns.out)
    broken = [t["qualified_name"] for t in data["tables"] if t["error"]]
    summary = f"wrote {ns.out}: {len(data['tables'])} tables" + (
        f", {len(broken)} with errors: {', '.join(broken)}" if broken else ""
    )
    if ns.out == STDOUT:  # stdout holds the export: the summary is a note
        return Report(None, notes=[summary])
    return Report({"out": ns.out, "tables": len(data["tables"]), "errors": broken}, [summary])


def cmd_check(ns: argparse.Namespace, ctx: Context) -> Report:
    from neuralake.contracts import format_report, report_dict

    if ns.against is not None:
        return check_against(ns.against, ctx)
    catalog = ctx.catalog()
    names = catalog.list_tables(include_deprecated=True)
    issues = catalog.validate(names)
    report = report_dict(issues, len(names))
    failed = not report["ok"] or (ns.strict and report["warnings"] > 0)
    code = ExitCode.FINDINGS if failed else ExitCode.OK
    return Report(report, format_report(issues, names).splitlines(), exit_code=code)


def check_against(path: str, ctx: Context) -> Report:
    """Compare the catalog with the export at ``path``: findings when a change breaks readers."""
    from neuralake.cli.diff_cmds import load_export
    from neuralake.export.diff import diff_catalogs

    base = load_export(path)
    diff = diff_catalogs(base, ctx.catalog().export_metadata())
    breaking = diff.breaking
    lines = [f"{c.table}: {c.message}" for c in breaking]
    lines.append(f"{len(breaking)} breaking, {len(diff.changes) - len(breaking)} other changes "
                 f"against {path}")  # fmt: skip
    data = {"ok": not breaking, "against": path, **diff.to_dict()}
    return Report(data, lines, exit_code=ExitCode.FINDINGS if breaking else ExitCode.OK)


def register(sub: Subparsers) -> None:
    as_json = [json_parent()]
    p = command(sub, "tables", cmd_tables, "list tables (declarations only)", as_json)
    operands(p)
    p.add_argument("--all", action="store_true", help="include deprecated tables")

    p = command(sub, "describe", cmd_describe, "show a table's metadata", as_json)
    operands(p, ("table", "db.table", "the table"))

    p = command(sub, "query", cmd_query, "run SQL over catalog tables (named db.table)")
    operands(p, ("sql", "SQL", "one SELECT statement"))
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE (- for stdout)")
    p.add_argument("--limit", type=int, metavar="N", help="return at most N rows")
    p.add_argument(
        "--allow-files",
        action="store_true",
        help="also allow the read_csv/read_parquet/... file functions (for local use only: "
        "they read any file or URL this user can)",
    )
    p.add_argument("--engine", choices=["polars", "daft"], default="polars",
                   help="the engine that runs the query (daft: locally or on Ray)")  # fmt: skip
    p.add_argument("--ray-address", metavar="ADDR",
                   help="run the Daft engine on the Ray cluster at ADDR (ray://host:10001, or "
                   "'auto' for the one RAY_ADDRESS names)")  # fmt: skip

    p = command(sub, "export", cmd_export, "write the catalog's metadata as versioned JSON",
                as_json)  # fmt: skip
    operands(p)
    p.add_argument("--out", required=True, metavar="FILE", help="catalog.json, or - for stdout")

    p = command(sub, "check", cmd_check,
                "compare declared schemas with storage (exit 7 on drift)", as_json)  # fmt: skip
    operands(p)
    p.add_argument("--strict", action="store_true", help="also fail on safe-cast differences")
    p.add_argument(
        "--against", metavar="BASE.json",
        help="instead, compare with an earlier export: exit 7 on breaking changes",
    )  # fmt: skip
