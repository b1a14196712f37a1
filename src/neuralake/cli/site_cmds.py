"""``site build``, ``site serve`` and ``demo``: the static catalog site."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from neuralake.cli.context import load
from neuralake.cli.errors import NotFoundError, UsageError
from neuralake.cli.options import command, json_parent
from neuralake.cli.output import STDOUT, Frame, Report

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.cli.context import Context
    from neuralake.cli.options import Subparsers
    from neuralake.export.site import SiteReport

DEMO_REFERENCE = "examples.tpch.catalog:catalog"
DEMO_QUERY = (
    "SELECT o.o_orderyear, count(DISTINCT o.o_orderkey) AS orders, count(*) AS line_items, "
    "round(sum(l.l_extendedprice), 2) AS revenue "
    "FROM tpch.orders o JOIN tpch.lineitem l ON o.o_orderkey = l.l_orderkey "
    "GROUP BY o.o_orderyear ORDER BY o.o_orderyear"
)


def _built(report: SiteReport) -> Report:
    data = {"out": str(report.out), "tables": report.tables, "failed": list(report.failed),
            "seconds": round(report.seconds, 3)}  # fmt: skip
    line = f"built {report.out}: {report.tables} tables in {report.seconds:.1f}s"
    return Report(data, [line], notes=[f"  failed: {f}" for f in report.failed])


def _rows(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of rows (1 or more), not {text!r}")
    return value


def check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on, before any slow work starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the HTTP server binds: a port left in TIME_WAIT is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port"
            ) from exc


def site_folder(directory: str) -> Path:
    """The built site to serve, or a one-line error that says how to build it."""
    root = Path(directory)
    if not root.is_dir():
        raise NotFoundError(
            f"no site folder at {directory}; build one with neuralake site build --out {directory}"
        )
    return root


def cmd_site_build(ns: argparse.Namespace, ctx: Context) -> Report:
    from neuralake.export.site import build_site

    if ns.out == STDOUT:
        raise UsageError("site build writes a folder of pages; --out - (stdout) is not possible")
    pairs: list[tuple[Catalog, str | None]] = [(load(r), r) for r in ctx.references()]
    report = build_site(pairs, ns.out, strict=ns.strict, repo_url=ns.repo_url,
                        api_url=ns.api_url, preview_rows=ns.preview)  # fmt: skip
    return _built(report)


def cmd_site_serve(ns: argparse.Namespace, ctx: Context) -> None:
    root = site_folder(ns.directory)
    check_port(ns.host, ns.port)
    from neuralake.export.site import serve

    serve(root, host=ns.host, port=ns.port)


def cmd_demo(ns: argparse.Namespace, ctx: Context) -> None:
    if not (ns.no_site or ns.no_serve):
        check_port("127.0.0.1", ns.port)  # before minutes of generating and building
    lake = Path(ns.lake).resolve()
    os.environ["NEURALAKE_DEMO_LAKE"] = str(lake)  # where the demo catalog module finds its lake
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        from examples.tpch.generate import generate
    except ImportError as exc:
        raise NotFoundError(
            "neuralake demo runs from the repository root (it needs examples/tpch)"
        ) from exc
    generate(lake, scale=ns.scale)
    catalog = load(DEMO_REFERENCE)
    names = catalog.list_tables()
    header = f"\nCatalog {catalog.name!r} ({DEMO_REFERENCE}), lake at {lake}:"
    ctx.emit(Report({"catalog": DEMO_REFERENCE, "lake": str(lake), "tables": names},
                    [header, *(f"  {n}" for n in names), "", DEMO_QUERY]))  # fmt: skip
    ctx.emit(Frame(catalog.sql(DEMO_QUERY).collect()))
    if ns.no_site:
        return
    from neuralake.export.site import build_site, serve

    report = build_site([(catalog, DEMO_REFERENCE)], ns.out, repo_url=ns.repo_url,
                        api_url=ns.api_url)  # fmt: skip
    ctx.emit(_built(report))
    if not ns.no_serve:
        serve(ns.out, port=ns.port)


def _site_links(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--repo-url", metavar="TEMPLATE",
        help="source link template, e.g. https://github.com/o/r/blob/main/{path}#L{line}",
    )  # fmt: skip
    p.add_argument(
        "--api-url", metavar="URL",
        help="base URL of the read-only API; table pages then show a curl snippet",
    )  # fmt: skip


def register(sub: Subparsers) -> None:
    site = sub.add_parser("site", help="build or serve the static catalog site")
    site_sub = site.add_subparsers(dest="site_command", required=True, metavar="COMMAND")
    p = command(site_sub, "build", cmd_site_build, "render the site", [json_parent()])
    p.add_argument("catalogs", nargs="*", metavar="CATALOG",
                   help="deprecated: catalogs to render; prefer -c (repeatable)")  # fmt: skip
    p.add_argument(
        "--out", default="site", metavar="DIR", help="site folder (default: %(default)s)"
    )
    p.add_argument("--strict", action="store_true", help="exit non-zero if any table failed")
    p.add_argument(
        "--preview", type=_rows, default=0, metavar="N",
        help="show the first N rows of each table (read with its docs filters; tables tagged "
             "pii/personal/sensitive or declared preview=False are not read); default: off",
    )  # fmt: skip
    _site_links(p)

    p = command(site_sub, "serve", cmd_site_serve, "serve a built site on 127.0.0.1")
    p.add_argument("directory", nargs="?", default="site", metavar="DIR")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")

    p = command(sub, "demo", cmd_demo,
                "generate the TPC-H demo lake, build the site and serve it")  # fmt: skip
    p.add_argument("--scale", type=float, default=0.1, help="TPC-H scale factor")
    p.add_argument("--lake", default="lake", metavar="DIR")
    p.add_argument("--out", default="site", metavar="DIR")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="build but do not serve")
    p.add_argument("--no-site", action="store_true", help="only generate the lake and run a query")
    _site_links(p)
