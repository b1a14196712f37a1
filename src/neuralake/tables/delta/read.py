"""Lazy reads: a snapshot scanned by Polars, conformed to the declared schema, one row per key
(de-duplicated only where the log cannot vouch for the key: see ``keys.py``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.errors import UnsupportedFeatureError
from neuralake.tables.base import check_castable, normalize
from neuralake.tables.delta.errors import translated
from neuralake.tables.delta.keys import key_state
from neuralake.tables.delta.log import add_actions, file_uri, partition_columns, schema_of
from neuralake.tables.delta.protocol import DELTA_RS
from neuralake.tables.delta.readers import choose, lazy
from neuralake.tables.delta.snapshot import check_files_present, open_snapshot

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.filters import FilterSpec
    from neuralake.predicate import Predicate
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
        with translated(target, "read the log for the key"):
            lf = one_row_per_key(target, table, lf, declared, predicate)
    return lf


def one_row_per_key(
    target: DeltaTarget,
    table: DeltaTable,
    lf: pl.LazyFrame,
    declared: pl.Schema | None,
    predicate: FilterSpec,
) -> pl.LazyFrame:
    """``lf`` (the snapshot, conformed) with one row per key: the newest.

    * Unique by construction (see :mod:`~neuralake.tables.delta.keys`): ``lf`` itself, every
      filter reaching the scan.
    * Unique by construction at an earlier version: the rows of the files added since, newest
      first, de-duplicated; the other rows (mutually unique) minus the keys of those, so every
      filter reaches their scan. When no older file's key range (file statistics of the first
      key column) meets the new files', the keys are told apart by that range alone.
    * Otherwise every row is de-duplicated, newest file first (``scan_delta``'s order); the
      part of the filter on key columns alone (it cannot change which row wins a key; with
      the partition columns in the key, partition filters too) runs before.
    """
    keys = list(target.unique_columns)
    state = key_state(target, table, keys)
    if state.unique:
        return lf
    features = set(table.protocol().reader_features or ())
    if state.trusted_version is not None and "deletionVectors" not in features:
        actions = add_actions(table)
        live = set(actions["path"].to_list()) if actions.height else set()
        newer = sorted((p for p in state.added if p in live), key=lambda p: -state.added[p])
        if not newer:
            return lf  # the files added since the last unique version are gone again
        schema = schema_of(table)
        fresh = _files(target, table, actions, newer, schema)
        if declared is not None:
            fresh = normalize(fresh, schema, declared)
        fresh = fresh.unique(keys, keep="first", maintain_order=False)
        # String bounds in the log may be truncated: only exact (numeric, temporal) ones decide.
        exact = schema[keys[0]].is_numeric() or schema[keys[0]].is_temporal()
        apart = _range_apart(actions, set(newer), keys[0]) if exact else None
        if apart is not None:
            lo, hi = apart
            older = lf.filter(~pl.col(keys[0]).is_between(lo, hi).fill_null(False))
        else:
            older = lf.join(fresh.select(keys), on=keys, how="anti", nulls_equal=True)
        return pl.concat([older, fresh], how="vertical")
    from neuralake.predicate import Predicate, ToPolars

    if isinstance(predicate, Predicate):
        on_keys = key_filter(predicate, frozenset(keys))
        if on_keys is not None:
            lf = lf.filter(on_keys.accept(ToPolars()))
    # scan_delta yields files newest first: the first row per key is the latest write.
    return lf.unique(keys, keep="first")


def key_filter(predicate: Predicate, keys: frozenset[str]) -> Predicate | None:
    """A filter implied by ``predicate`` that reads only ``keys`` (``None``: no such filter).

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> schema = pl.Schema({"k": pl.Int64, "v": pl.String})
        >>> pred = bind([[Filter("k", "=", 1), Filter("v", "=", "a")], [Filter("k", "=", 2)]],
        ...             schema)
        >>> str(key_filter(pred, frozenset({"k"})))
        'k = 1 OR k = 2'
    """
    from neuralake.predicate import AlwaysTrue, and_, dnf, or_

    branches = dnf(predicate)
    if branches is None:
        return None
    implied = or_(*(and_(*(a for a in b if a.columns <= keys)) for b in branches))
    return None if isinstance(implied, AlwaysTrue) else implied


def _files(
    target: DeltaTarget,
    table: DeltaTable,
    actions: pl.DataFrame,
    paths: list[str],
    schema: pl.Schema,
) -> pl.LazyFrame:
    """The rows of the data files ``paths`` (in that order) in the stored ``schema``."""
    parts = set(partition_columns(table))
    data = pl.Schema({c: t for c, t in schema.items() if c not in parts})
    rows = {r["path"]: r for r in actions.iter_rows(named=True)}
    frames = []
    for path in paths:
        frame = pl.scan_parquet(
            file_uri(target.uri, path),
            schema=data,
            missing_columns="insert",
            extra_columns="ignore",
            storage_options=target.read_options(),
        )
        values = [pl.lit(rows[path].get(f"partition.{p}"), schema[p]).alias(p) for p in parts]
        frames.append(frame.with_columns(values).select(list(schema)))
    return pl.concat(frames, how="vertical")


def _range_apart(actions: pl.DataFrame, newer: set[str], column: str) -> tuple[Any, Any] | None:
    """The range of ``column`` in the ``newer`` files, if no other file's range meets it (all
    from file statistics; ``None`` when they meet, or statistics or nulls leave it unknown)."""
    names = (f"min.{column}", f"max.{column}", f"null_count.{column}")
    if not all(n in actions.columns for n in names):
        return None
    lo = hi = None
    others = []
    for path, low, high, nulls in actions.select("path", *names).iter_rows():
        if low is None or high is None:
            return None
        if path in newer:
            if nulls is None or nulls > 0:
                return None
            lo = low if lo is None else min(lo, low)
            hi = high if hi is None else max(hi, high)
        else:
            others.append((low, high))
    if lo is None or any(low <= hi and lo <= high for low, high in others):
        return None
    return lo, hi
