"""``delta history|vacuum|optimize|restore``: a versioned table's log and maintenance.

Tables come from ``catalog.get_table``, bound to the catalog's storage, so maintenance runs
against the same bucket and credentials as reads.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from neuralake.cli.errors import UnsupportedTableError
from neuralake.cli.options import command, json_parent, operands
from neuralake.cli.output import Listing, Report

if TYPE_CHECKING:
    from neuralake.cli.context import Context
    from neuralake.cli.options import Subparsers
    from neuralake.tables.base import Versioned

TABLE = ("table", "db.table", "a Delta table")


def versioned(ctx: Context, name: str) -> tuple[Versioned, str]:
    """The bound table ``name`` if it has a commit log, else a one-line refusal."""
    from neuralake.tables.base import Versioned

    table = ctx.catalog().get_table(name)
    if not isinstance(table, Versioned):
        raise UnsupportedTableError(
            f"{table.qualified_name} is a {table.table_type} table, not a Delta table "
            "(history, vacuum, optimize and restore need a Delta table)"
        )
    return table, table.qualified_name


def cmd_history(ns: argparse.Namespace, ctx: Context) -> Listing:
    table, _ = versioned(ctx, ns.table)
    records = [c.to_dict() for c in table.commits(ns.limit)]
    columns = [("version", "VERSION"), ("timestamp", "TIMESTAMP"), ("operation", "OPERATION"),
               ("parameters", "PARAMETERS")]  # fmt: skip
    return Listing(records, columns)


def cmd_vacuum(ns: argparse.Namespace, ctx: Context) -> Report:
    table, label = versioned(ctx, ns.table)
    files = table.vacuum(
        ns.retention_hours, dry_run=not ns.execute, enforce_retention=not ns.no_enforce_retention
    )
    verb = "deleted" if ns.execute else "would delete (dry run; pass --execute to delete)"
    lines = [f"{label}: {verb} {len(files)} files", *(f"  {f}" for f in files)]
    return Report({"table": label, "dry_run": not ns.execute, "files": files}, lines)


def cmd_optimize(ns: argparse.Namespace, ctx: Context) -> Report:
    table, label = versioned(ctx, ns.table)
    z_order = [c.strip() for c in ns.z_order.split(",") if c.strip()] if ns.z_order else None
    m: Any = table.optimize(z_order=z_order, target_size=ns.target_size)
    line = (
        f"{label}: version {m.version}, {m.files_removed} files compacted into {m.files_added} "
        f"({m.partitions_optimized} partitions)"
    )
    return Report({"table": label, **m.to_dict()}, [line])


def cmd_restore(ns: argparse.Namespace, ctx: Context) -> Report:
    table, label = versioned(ctx, ns.table)
    target: int | str = int(ns.version) if ns.version.lstrip("-").isdigit() else ns.version
    m: Any = table.restore(target)
    line = (
        f"{label}: restored version {m.restored_version} as version {m.version}"
        if m.changed
        else f"{label}: version {m.version} is already current; nothing to restore"
    )
    return Report({"table": label, **m.to_dict()}, [line])


def register(sub: Subparsers) -> None:
    delta = sub.add_parser("delta", help="Delta table history and maintenance")
    delta_sub = delta.add_subparsers(dest="delta_command", required=True, metavar="COMMAND")
    as_json = [json_parent()]

    p = command(delta_sub, "history", cmd_history, "commit log, newest first", as_json)
    operands(p, TABLE)
    p.add_argument("--limit", type=int, metavar="N", help="at most N commits")

    p = command(delta_sub, "vacuum", cmd_vacuum, "list (or delete) unreferenced files", as_json)
    operands(p, TABLE)
    p.add_argument("--retention-hours", type=int, metavar="H",
                   help="keep files removed less than H hours ago (default: the table's)")  # fmt: skip
    p.add_argument("--execute", action="store_true", help="delete (default: dry run)")
    p.add_argument(
        "--no-enforce-retention", action="store_true", help="allow retention below the minimum"
    )

    p = command(delta_sub, "optimize", cmd_optimize, "compact small files or z-order", as_json)
    operands(p, TABLE)
    p.add_argument("--z-order", metavar="COLS", help="comma-separated columns")
    p.add_argument("--target-size", type=int, metavar="BYTES", help="target file size in bytes")

    p = command(delta_sub, "restore", cmd_restore, "make an earlier version current again",
                as_json)  # fmt: skip
    operands(p, TABLE, ("version", "VERSION", "version number or ISO timestamp"))
