"""``roapi`` (export a ROAPI config) and ``api serve`` (the read-only API)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from neuralake.api.defaults import (
    DEFAULT_MAX_QUEUED,
    DEFAULT_MEMORY_MB,
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_WORKERS,
)
from neuralake.cli.options import LibraryDefault, command, json_parent, operands, resolve
from neuralake.cli.output import STDOUT, Report, write_text

if TYPE_CHECKING:
    from neuralake.cli.context import Context
    from neuralake.cli.options import Subparsers

MIB = 1024 * 1024


def cmd_roapi(ns: argparse.Namespace, ctx: Context) -> Report:
    import warnings

    from neuralake.export.roapi import RoapiSkipWarning, plan_roapi

    catalog = ctx.catalog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoapiSkipWarning)  # reported as notes instead
        plan = plan_roapi(
            catalog,
            materialize=ns.materialize,
            reload_interval=ns.reload_interval,
            memory_threshold_bytes=round(resolve(ns.memory_threshold_mb) * MIB),
        )
    write_text(plan.to_yaml(), ns.out)
    notes = [f"  skipped {s.qualified_name}: {s.reason}" for s in plan.skipped]
    lines = [f"wrote {ns.out}: {len(plan.tables)} tables"]
    if plan.environment:
        lines.append(f"  ROAPI reads storage settings from: {', '.join(plan.environment)}")
    if ns.out == STDOUT:  # stdout holds the config: everything else is a note
        return Report(None, notes=[*lines, *notes])
    data = {"out": ns.out, "tables": len(plan.tables), "environment": list(plan.environment),
            "skipped": [{"table": s.qualified_name, "reason": s.reason} for s in plan.skipped]}  # fmt: skip
    return Report(data, lines, notes=notes)


def cmd_api_serve(ns: argparse.Namespace, ctx: Context) -> None:
    from neuralake.api.server import serve

    ctx.catalog()  # load it here first: a broken catalog is a one-line error, not a worker's
    serve(
        ctx.reference(),
        host=ns.host,
        port=ns.port,
        token_env=ns.token_env,
        row_limit=ns.row_limit,
        timeout=ns.timeout,
        workers=ns.workers,
        memory_mb=ns.memory_mb,
        max_queued=ns.max_queued,
    )


def register(sub: Subparsers) -> None:
    p = command(sub, "roapi", cmd_roapi,
                "write a ROAPI config for the catalog's Delta/Parquet tables", [json_parent()])  # fmt: skip
    operands(p)
    p.add_argument("--out", default="roapi.yaml", metavar="FILE",
                   help="config file, or - for stdout (default: %(default)s)")  # fmt: skip
    p.add_argument("--materialize", metavar="DIR",
                   help="write function/directory tables to Parquet snapshots in DIR and serve them")  # fmt: skip
    p.add_argument(
        "--reload-interval", type=float, metavar="S", help="reload tables every S seconds"
    )
    p.add_argument(
        "--memory-threshold-mb", type=float, metavar="MB",
        default=LibraryDefault("neuralake.export.roapi", "DEFAULT_MEMORY_THRESHOLD_BYTES", 1 / MIB),
        help="tables up to this size are loaded into ROAPI's memory (default: %(default)s)",
    )  # fmt: skip

    api = sub.add_parser("api", help="serve the catalog as a read-only SQL/REST API")
    api_sub = api.add_subparsers(dest="api_command", required=True, metavar="COMMAND")
    p = command(api_sub, "serve", cmd_api_serve,
                "serve catalog.sql and table reads over HTTP, each query in a killable worker")  # fmt: skip
    operands(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (anything but loopback needs --token-env)")  # fmt: skip
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--token-env", metavar="VAR", help="require the bearer token held in $VAR")
    p.add_argument("--row-limit", type=int, metavar="N", default=DEFAULT_ROW_LIMIT,
                   help="most rows per answer; more are cut and marked (default: %(default)s)")  # fmt: skip
    p.add_argument("--timeout", type=float, metavar="S", default=DEFAULT_TIMEOUT_SECONDS,
                   help="seconds per query before it is stopped (default: %(default)g)")  # fmt: skip
    p.add_argument("--workers", type=int, metavar="N", default=DEFAULT_WORKERS,
                   help="query worker processes (default: %(default)s)")  # fmt: skip
    p.add_argument("--memory-mb", type=int, metavar="MB", default=DEFAULT_MEMORY_MB,
                   help="memory per query before it is stopped (default: %(default)s)")  # fmt: skip
    p.add_argument("--max-queued", type=int, metavar="N", default=DEFAULT_MAX_QUEUED,
                   help="queries waiting for a worker before 429 (default: %(default)s)")  # fmt: skip
