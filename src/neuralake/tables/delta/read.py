"""Lazy reads: a snapshot scanned by Polars, conformed to the declared schema, one row per key."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from neuralake.errors import UnsupportedFeatureError
from neuralake.tables.base import check_castable, normalize
from neuralake.tables.delta.errors import translated
from neuralake.tables.delta.log import schema_of
from neuralake.tables.delta.protocol import DELTA_RS
from neuralake.tables.delta.readers import choose, lazy
from neuralake.tables.delta.snapshot import check_files_present, open_snapshot

if TYPE_CHECKING:
    from neuralake.filters import FilterSpec
    from neuralake.tables.delta.target import DeltaTarget


def scan(
    target: DeltaTarget,
    *,
    version: int | None = None,
    as_of: dt.datetime | str | None = None,
    predicate: FilterSpec = None,
) -> pl.LazyFrame:
    """The table at ``version`` / ``as_of`` (latest by default) as a lazy frame.

    Column selection and predicates applied to the frame reach ``pl.scan_delta`` (partition
    and statistics file skipping). The frame has the declared schema (declared order, safe
    casts, missing columns as nulls) and, with unique columns, the row of the most recent
    commit per key.
    """
    table = open_snapshot(target, version=version, as_of=as_of)
    if version is not None or as_of is not None:  # vacuumed versions fail here, clearly
        check_files_present(target, table.version(), loaded=table)
    declared = target.declared_schema
    reader = choose(table, target.label)
    if target.unique_columns and reader == DELTA_RS:
        # Keeping the latest row per key relies on Polars yielding newer files first; the
        # delta-rs scan gives no such order, so an older row could win without an error.
        raise UnsupportedFeatureError(
            f"Table {target.label!r} declares unique_columns, but its reader features are "
            "served by the delta-rs reader, whose row order cannot tell the latest row of a "
            "key. Remove unique_columns from the declaration (write through upsert to keep "
            "keys unique), or rewrite the table without column mapping / v2 checkpoints."
        )
    with translated(target, "plan the scan"):
        sql = None
        if reader == DELTA_RS:
            from neuralake.predicate import ToDeltaScanSql, bind  # only this reader needs it

            stored = schema_of(table)
            # Undeclared tables arrive unbound: bind to the stored schema for the pushdown
            # (the caller still validates and applies the full filter to the frame).
            if predicate is not None:
                sql = bind(predicate, stored, table=target.label).accept(ToDeltaScanSql(stored))
        lf = lazy(target, table, reader, sql)
        source = schema_of(table) if declared is not None else None
    if declared is not None and source is not None:
        check_castable(source, declared, target.label)
        lf = normalize(lf, source, declared)
    if target.unique_columns:
        # scan_delta yields files newest first: the first row per key is the latest write.
        # Filters run after this (an older version of a key must never resurface), except
        # those on key columns, which Polars pushes below it into the scan.
        lf = lf.unique(list(target.unique_columns), keep="first")
    return lf
