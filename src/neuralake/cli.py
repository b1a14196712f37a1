"""The ``neuralake`` command line.

A catalog is named ``package.module:attribute`` (like uvicorn's ``app:app``); when omitted it
is read from ``[tool.neuralake] catalog = "..."`` in the nearest ``pyproject.toml``. The current
directory is importable, so a catalog module in the working tree needs no installation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.errors import CatalogLoadError, NeuralakeError

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

DEMO_REFERENCE = "examples.tpch.catalog:catalog"


def configured_reference(start: Path | None = None) -> str:
    """The catalog reference from the nearest ``pyproject.toml`` (``[tool.neuralake] catalog``)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            with pyproject.open("rb") as fh:
                ref = tomllib.load(fh).get("tool", {}).get("neuralake", {}).get("catalog")
            if ref:
                return str(ref)
    raise CatalogLoadError(
        "No catalog given. Pass one as package.module:attribute, or set "
        '[tool.neuralake] catalog = "package.module:attribute" in pyproject.toml.'
    )


def load(reference: str | None) -> tuple[Catalog, str]:
    """Import the catalog (the working directory first on ``sys.path``)."""
    from neuralake.catalog import load_catalog

    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    ref = reference or configured_reference()
    return load_catalog(ref), ref


def _split(args: Sequence[str | None], wanted: int, usage: str) -> tuple[str | None, list[str]]:
    """Positional args are ``[CATALOG] rest...``: the catalog is there only if one is extra."""
    given = [a for a in args if a is not None]
    ref, rest = (given[0], given[1:]) if len(given) > wanted else (None, given)
    if len(rest) < wanted:
        raise SystemExit(f"usage: neuralake {usage}")
    return ref, rest


def cmd_tables(ns: argparse.Namespace) -> int:
    catalog, _ = load(ns.catalog)
    # Declarations only: listing never reads storage or runs table functions.
    rows: list[dict[str, Any]] = [
        {"qualified_name": name, "type": t.table_type, "owner": t.owner, "tags": list(t.tags),
         "deprecated": t.deprecated}
        for name in catalog.list_tables(include_deprecated=ns.all)
        for t in [catalog.get_table(name)]
    ]  # fmt: skip
    if ns.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max((len(r["qualified_name"]) for r in rows), default=0)
    for r in rows:
        note = "  (deprecated)" if r["deprecated"] else ""
        print(f"{r['qualified_name']:<{width}}  {r['type']:<8}  {r['owner'] or '-'}{note}")
    return 0


def cmd_describe(ns: argparse.Namespace) -> int:
    ref, rest = _split([ns.catalog, ns.table], 1, "describe [CATALOG] db.table")
    catalog, _ = load(ref)
    meta = catalog.describe_table(rest[0]).to_dict()
    if ns.json:
        print(json.dumps(meta, indent=2, default=str))
        return 0
    print(f"{meta['qualified_name']}  ({meta['type']})")
    for key in ("owner", "tags", "location", "partitions", "unique_columns", "deprecated"):
        if meta[key]:
            value = ", ".join(meta[key]) if isinstance(meta[key], list) else meta[key]
            print(f"  {key}: {value}")
    if meta["description"]:
        print("\n" + meta["description"])
    if meta["columns"]:
        print()
        width = max(len(c["name"]) for c in meta["columns"])
        for c in meta["columns"]:
            tail = f"  {c['description']}" if c["description"] else ""
            print(
                f"  {c['name']:<{width}}  {c['type']}{' [partition]' if c['partition'] else ''}{tail}"
            )
    return 0


def cmd_query(ns: argparse.Namespace) -> int:
    ref, rest = _split([ns.catalog, ns.sql], 1, 'query [CATALOG] "SELECT ..."')
    catalog, _ = load(ref)
    lf = catalog.sql(rest[0])
    if ns.limit is not None:
        lf = lf.limit(ns.limit)
    df = lf.collect()
    write_frame(df, ns.format, ns.output)
    return 0


def write_frame(df: Any, fmt: str, output: str | None) -> None:
    import polars as pl

    if fmt == "parquet":
        if not output:
            raise SystemExit("--format parquet needs --output FILE")
        df.write_parquet(output)
        return
    if fmt == "csv":
        text = df.write_csv()
    elif fmt == "json":
        text = df.write_json() + "\n"
    else:
        with pl.Config(tbl_rows=50, tbl_cols=-1, tbl_width_chars=200):
            text = f"{df}\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_export(ns: argparse.Namespace) -> int:
    catalog, _ = load(ns.catalog)
    data = catalog.export_metadata(ns.out)
    broken = [t["qualified_name"] for t in data["tables"] if t["error"]]
    print(
        f"wrote {ns.out}: {len(data['tables'])} tables"
        + (f", {len(broken)} with errors: {', '.join(broken)}" if broken else "")
    )
    return 0


def cmd_site_build(ns: argparse.Namespace) -> int:
    from neuralake.export.site import build_site

    refs = ns.catalogs or [configured_reference()]
    pairs = [load(r) for r in refs]
    report = build_site(pairs, ns.out, strict=ns.strict, repo_url=ns.repo_url,
                        api_url=ns.api_url)  # fmt: skip
    print(f"built {report.out}: {report.tables} tables in {report.seconds:.1f}s")
    for failure in report.failed:
        print(f"  failed: {failure}", file=sys.stderr)
    return 0


def cmd_site_serve(ns: argparse.Namespace) -> int:
    from neuralake.export.site import serve

    serve(ns.directory, host=ns.host, port=ns.port)
    return 0


def cmd_demo(ns: argparse.Namespace) -> int:
    lake = Path(ns.lake).resolve()
    os.environ["NEURALAKE_DEMO_LAKE"] = str(lake)  # where the demo catalog module finds its lake
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        from examples.tpch.generate import generate
    except ImportError as exc:
        raise CatalogLoadError(
            "neuralake demo runs from the repository root (it needs examples/tpch)."
        ) from exc
    generate(lake, scale=ns.scale)
    catalog, ref = load(DEMO_REFERENCE)
    print(f"\nCatalog {catalog.name!r} ({ref}), lake at {lake}:")
    for name in catalog.list_tables():
        print(f"  {name}")
    query = (
        "SELECT o.o_orderyear, count(*) AS orders, round(sum(l.l_extendedprice), 2) AS revenue "
        "FROM tpch.orders o JOIN tpch.lineitem l ON o.o_orderkey = l.l_orderkey "
        "GROUP BY o.o_orderyear ORDER BY o.o_orderyear"
    )
    print(f"\n{query}")
    write_frame(catalog.sql(query).collect(), "table", None)
    if ns.no_site:
        return 0
    from neuralake.export.site import build_site, serve

    report = build_site([(catalog, ref)], ns.out, repo_url=ns.repo_url, api_url=ns.api_url)
    print(f"built {report.out}: {report.tables} tables in {report.seconds:.1f}s")
    if not ns.no_serve:
        serve(ns.out, port=ns.port)
    return 0


def _delta_table(ref: str | None, name: str) -> tuple[Any, str]:
    from neuralake.tables.delta import NeuralakeDeltaTable

    catalog, _ = load(ref)
    table = catalog.get_table(name)
    if not isinstance(table, NeuralakeDeltaTable):
        raise SystemExit(
            f"error: {table.qualified_name} is a {table.table_type} table, not a Delta table"
        )
    return table, table.qualified_name


def _emit(ns: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if ns.json else text)


def cmd_delta_history(ns: argparse.Namespace) -> int:
    ref, rest = _split([ns.catalog, ns.table], 1, "delta history [CATALOG] db.table [--limit N]")
    table, _ = _delta_table(ref, rest[0])
    df = table.history(ns.limit)
    if ns.json:
        print(json.dumps(df.to_dicts(), indent=2, default=str))
    else:
        write_frame(df.select("version", "timestamp", "operation", "parameters"), "table", None)
    return 0


def cmd_delta_vacuum(ns: argparse.Namespace) -> int:
    ref, rest = _split([ns.catalog, ns.table], 1, "delta vacuum [CATALOG] db.table [--execute]")
    table, label = _delta_table(ref, rest[0])
    files = table.vacuum(
        ns.retention_hours, dry_run=not ns.execute, enforce_retention=not ns.no_enforce_retention
    )
    verb = "deleted" if ns.execute else "would delete (dry run; pass --execute to delete)"
    text = "\n".join([f"{label}: {verb} {len(files)} files", *(f"  {f}" for f in files)])
    _emit(ns, {"table": label, "dry_run": not ns.execute, "files": files}, text)
    return 0


def cmd_delta_optimize(ns: argparse.Namespace) -> int:
    ref, rest = _split(
        [ns.catalog, ns.table], 1, "delta optimize [CATALOG] db.table [--z-order COLS]"
    )
    table, label = _delta_table(ref, rest[0])
    z_order = [c.strip() for c in ns.z_order.split(",") if c.strip()] if ns.z_order else None
    m = table.optimize(z_order=z_order, target_size=ns.target_size)
    text = (
        f"{label}: version {m.version}, {m.files_removed} files compacted into {m.files_added} "
        f"({m.partitions_optimized} partitions)"
    )
    _emit(ns, {"table": label, **m.to_dict()}, text)
    return 0


def cmd_delta_restore(ns: argparse.Namespace) -> int:
    ref, rest = _split(
        [ns.catalog, ns.table, ns.version], 2, "delta restore [CATALOG] db.table VERSION"
    )
    table, label = _delta_table(ref, rest[0])
    target: int | str = int(rest[1]) if rest[1].lstrip("-").isdigit() else rest[1]
    m = table.restore(target)
    text = (
        f"{label}: restored version {m.restored_version} as version {m.version}"
        if m.changed
        else f"{label}: version {m.version} is already current; nothing to restore"
    )
    _emit(ns, {"table": label, **m.to_dict()}, text)
    return 0


def cmd_check(ns: argparse.Namespace) -> int:
    from neuralake.contracts import format_report, report_dict

    catalog, _ = load(ns.catalog)
    names = catalog.list_tables(include_deprecated=True)
    issues = catalog.validate(names)
    report = report_dict(issues, len(names))
    if ns.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(issues, names))
    failed = not report["ok"] or (ns.strict and report["warnings"] > 0)
    return 1 if failed else 0


def cmd_roapi(ns: argparse.Namespace) -> int:
    import warnings

    from neuralake.export.roapi import RoapiSkipWarning, plan_roapi

    catalog, _ = load(ns.catalog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoapiSkipWarning)  # listed below instead
        plan = plan_roapi(
            catalog,
            materialize=ns.materialize,
            reload_interval=ns.reload_interval,
            memory_threshold_bytes=int(ns.memory_threshold_mb * 1024 * 1024),
        )
    Path(ns.out).write_text(plan.to_yaml(), encoding="utf-8")
    print(f"wrote {ns.out}: {len(plan.tables)} tables")
    for s in plan.skipped:
        print(f"  skipped {s.qualified_name}: {s.reason}", file=sys.stderr)
    if plan.environment:
        print(f"  ROAPI reads storage settings from: {', '.join(plan.environment)}")
    return 0


def cmd_api_serve(ns: argparse.Namespace) -> int:
    from neuralake.api.server import serve

    catalog, _ = load(ns.catalog)
    serve(
        catalog,
        host=ns.host,
        port=ns.port,
        token_env=ns.token_env,
        row_limit=ns.row_limit,
        timeout=ns.timeout,
        materialize=ns.materialize,
        reload_interval=ns.reload_interval,
        roapi_bin=ns.roapi_bin,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neuralake", description="Code-as-catalog: list, query and export declared tables."
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("tables", help="list tables")
    s.add_argument("catalog", nargs="?", help="package.module:attribute (default: pyproject.toml)")
    s.add_argument("--json", action="store_true", help="stable JSON output")
    s.add_argument("--all", action="store_true", help="include deprecated tables")
    s.set_defaults(func=cmd_tables)

    s = sub.add_parser("describe", help="show a table's metadata")
    s.add_argument("catalog", nargs="?")
    s.add_argument("table", nargs="?", help="db.table")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_describe)

    s = sub.add_parser("query", help="run SQL over catalog tables (named db.table)")
    s.add_argument("catalog", nargs="?")
    s.add_argument("sql", nargs="?")
    s.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    s.add_argument("--output", "-o", help="write to a file instead of stdout")
    s.add_argument("--limit", type=int, help="return at most N rows")
    s.set_defaults(func=cmd_query)

    s = sub.add_parser("export", help="write the catalog's metadata as versioned JSON")
    s.add_argument("catalog", nargs="?")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_export)

    site = sub.add_parser("site", help="build or serve the static catalog site")
    site_sub = site.add_subparsers(dest="site_command", required=True)
    s = site_sub.add_parser("build", help="render the site")
    s.add_argument("catalogs", nargs="*", help="one or more catalog references")
    s.add_argument("--out", default="site")
    s.add_argument("--strict", action="store_true", help="exit non-zero if any table failed")
    s.add_argument(
        "--repo-url",
        help="source link template, e.g. https://github.com/o/r/blob/main/{path}#L{line}",
    )
    s.add_argument(
        "--api-url", metavar="URL",
        help="base URL of the read-only API; table pages then show a curl snippet",
    )  # fmt: skip
    s.set_defaults(func=cmd_site_build)
    s = site_sub.add_parser("serve", help="serve a built site on 127.0.0.1")
    s.add_argument("directory", nargs="?", default="site")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--host", default="127.0.0.1")
    s.set_defaults(func=cmd_site_serve)

    s = sub.add_parser("demo", help="generate the TPC-H demo lake, build the site and serve it")
    s.add_argument("--scale", type=float, default=0.1)
    s.add_argument("--lake", default="lake")
    s.add_argument("--out", default="site")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--no-serve", action="store_true", help="build but do not serve")
    s.add_argument("--no-site", action="store_true", help="only generate the lake and run a query")
    s.add_argument("--repo-url", help="source link template for the site (see `site build`)")
    s.add_argument(
        "--api-url",
        metavar="URL",
        help="API base URL for the site's curl snippets (see `site build`)",
    )
    s.set_defaults(func=cmd_demo)

    delta = sub.add_parser("delta", help="Delta table history and maintenance")
    delta_sub = delta.add_subparsers(dest="delta_command", required=True)
    s = delta_sub.add_parser("history", help="commit log, newest first")
    s.add_argument("catalog", nargs="?")
    s.add_argument("table", nargs="?", help="db.table")
    s.add_argument("--limit", type=int, help="at most N commits")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_delta_history)
    s = delta_sub.add_parser("vacuum", help="list (or delete) unreferenced files")
    s.add_argument("catalog", nargs="?")
    s.add_argument("table", nargs="?", help="db.table")
    s.add_argument("--retention-hours", type=int, help="default: the table's (168)")
    s.add_argument("--execute", action="store_true", help="delete (default: dry run)")
    s.add_argument(
        "--no-enforce-retention", action="store_true", help="allow retention below the minimum"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_delta_vacuum)
    s = delta_sub.add_parser("optimize", help="compact small files or z-order")
    s.add_argument("catalog", nargs="?")
    s.add_argument("table", nargs="?", help="db.table")
    s.add_argument("--z-order", help="comma-separated columns")
    s.add_argument("--target-size", type=int, help="target file size in bytes")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_delta_optimize)
    s = delta_sub.add_parser("restore", help="make an earlier version current again")
    s.add_argument("catalog", nargs="?")
    s.add_argument("table", nargs="?", help="db.table")
    s.add_argument("version", nargs="?", help="version number or ISO timestamp")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_delta_restore)

    s = sub.add_parser("check", help="compare declared schemas with storage (exit 1 on drift)")
    s.add_argument("catalog", nargs="?")
    s.add_argument("--json", action="store_true", help="stable JSON report")
    s.add_argument("--strict", action="store_true", help="also fail on safe-cast differences")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("roapi", help="write a ROAPI config for the catalog's Delta/Parquet tables")
    s.add_argument("catalog", nargs="?")
    s.add_argument("--out", default="roapi.yaml")
    s.add_argument(
        "--materialize",
        metavar="DIR",
        help="write function/directory tables to Parquet snapshots in DIR and serve them",
    )
    s.add_argument(
        "--reload-interval", type=float, metavar="S", help="reload tables every S seconds"
    )
    s.add_argument(
        "--memory-threshold-mb",
        type=float,
        default=64.0,
        help="tables up to this size are loaded into ROAPI's memory",
    )
    s.set_defaults(func=cmd_roapi)

    api = sub.add_parser(
        "api", help="serve the catalog as a read-only SQL/REST API (ROAPI + guard)"
    )
    api_sub = api.add_subparsers(dest="api_command", required=True)
    s = api_sub.add_parser("serve", help="start ROAPI and the read-only guard in front of it")
    s.add_argument("catalog", nargs="?")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--token-env", metavar="VAR", help="require the bearer token held in $VAR")
    s.add_argument("--row-limit", type=int, default=10_000, help="most rows per request")
    s.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    s.add_argument("--materialize", metavar="DIR", help="serve snapshots of function tables")
    s.add_argument("--reload-interval", type=float, metavar="S")
    s.add_argument("--roapi-bin", help="path of the roapi binary")
    s.set_defaults(func=cmd_api_serve)  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return int(ns.func(ns))
    except NeuralakeError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
