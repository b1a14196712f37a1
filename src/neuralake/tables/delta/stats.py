"""Size, column profiles and schema history of a Delta table, from its log.

Rows, min, max and null counts come from the ``stats`` of the snapshot's add actions; when a
writer left out ``numRecords``, from the data files' Parquet footers instead (footers only).
Schema history reads the JSON commits' ``metaData`` actions (never data files).
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.tables import stats as st
from neuralake.tables.delta.commits import CommitLog
from neuralake.tables.delta.log import (
    add_actions,
    file_uri,
    logical_names,
    partition_columns,
    schema_of,
    timestamp,
)
from neuralake.tables.facts import SchemaChange, TableStats

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.storage import StorageConfig
    from neuralake.tables.delta.target import DeltaTarget

LOG_STATS = "delta log add stats"
PARTITION_VALUES = "delta log partition values"
#: delta-rs (and Spark) keep only this many leading characters of string statistics.
STRING_PREFIX = 32
TRUNCATED = f"string stats truncated (writers keep {STRING_PREFIX} characters)"


def leaf_names(schema: pl.Schema) -> list[str]:
    """Column names with struct fields flattened to ``parent.child``, in schema order."""

    def walk(prefix: str, dtype: Any) -> list[str]:
        if isinstance(dtype, pl.Struct):
            return [n for f in dtype.fields for n in walk(f"{prefix}.{f.name}", f.dtype)]
        return [prefix]

    return [n for name, dtype in schema.items() for n in walk(name, dtype)]


def _logical(column: str, names: dict[str, str]) -> str:
    top, dot, rest = column.partition(".")
    return names.get(top, top) + dot + rest


def table_stats(table: DeltaTable, uri: str, cfg: StorageConfig) -> TableStats:
    """Rows, files, bytes, partitions and column profiles of the snapshot ``table``."""
    actions = add_actions(table)
    names = logical_names(table)
    parts = partition_columns(table)
    order = leaf_names(schema_of(table))
    part_cols = [f"partition.{p}" for p in parts if f"partition.{p}" in actions.columns]
    partitions = actions.select(part_cols).n_unique() if part_cols and actions.height else None
    if parts and not actions.height:
        partitions = 0
    records = actions["num_records"] if "num_records" in actions.columns else None
    prof = st.Profiler()
    note = None
    if actions.height and (records is None or records.null_count()):
        footers = _from_footers(actions, uri, cfg, names, prof)
        per_file = pl.Series("num_records", [f.rows for f in footers], pl.Int64)
        rows, source, note = int(per_file.sum()), st.PARQUET_FOOTERS, "no numRecords in the log"
    else:
        per_file = records if records is not None else pl.Series("num_records", [], pl.Int64)
        deleted = _deleted(actions)
        rows, source = int(per_file.sum()) - deleted, LOG_STATS
        if deleted:  # file stats still describe the deleted rows
            note = "deletion vectors: min/max are bounds, null counts include deleted rows"
        _from_log(actions, names, per_file, prof)
    for p, col in zip(parts, part_cols, strict=False):
        for value, n in zip(actions[col].to_list(), per_file.to_list(), strict=True):
            prof.add(p, value, value, n if value is None else 0, n, PARTITION_VALUES)
    return TableStats(
        rows=rows,
        files=actions.height,
        bytes=int(actions["size_bytes"].sum()) if actions.height else 0,
        partitions=partitions,
        source=source,
        note=note,
        columns=prof.profiles(rows, order),
    )


def _deleted(actions: pl.DataFrame) -> int:
    """Rows hidden by deletion vectors (``numRecords`` counts them)."""
    cols = [c for c in actions.columns if "deletion" in c.lower() and c.endswith("cardinality")]
    return int(actions[cols[0]].fill_null(0).sum()) if cols else 0


def _from_log(
    actions: pl.DataFrame, names: dict[str, str], records: pl.Series, prof: st.Profiler
) -> None:
    """Fold the per-file ``min.*``/``max.*``/``null_count.*`` columns, one column at a time."""
    leaves = {
        c.split(".", 1)[1]: None
        for c in actions.columns
        if c.startswith(("min.", "max.", "null_count."))
    }
    for leaf in leaves:
        low = actions.get_column(f"min.{leaf}", default=None)
        high = actions.get_column(f"max.{leaf}", default=None)
        nulls = actions.get_column(f"null_count.{leaf}", default=None)
        name = _logical(leaf, names)
        col = prof.columns.setdefault(name, st.ColumnTotals(source=LOG_STATS))
        if nulls is None or nulls.null_count():
            col.nulls_missing = True
        else:
            col.nulls = int(nulls.sum())
        if low is None or high is None:
            col.bounds_missing = True
            continue
        # a file whose values are all null has no bounds and loses nothing
        has_values = pl.Series([True] * actions.height) if nulls is None else nulls < records
        has_values = has_values.fill_null(True)
        unbounded = (low.is_null() | high.is_null()) & has_values
        if unbounded.any():
            col.bounds_missing = True
            continue
        col.min, col.max = low.min(), high.max()
        if low.dtype == pl.String and (
            (low.str.len_chars().max() or 0) >= STRING_PREFIX
            or (high.str.len_chars().max() or 0) >= STRING_PREFIX
        ):
            col.note = TRUNCATED


def _from_footers(
    actions: pl.DataFrame, uri: str, cfg: StorageConfig, names: dict[str, str], prof: st.Profiler
) -> list[st.Footer]:
    """Fold the data files' footers into ``prof`` (no data page is read)."""
    files = [
        (file_uri(uri, p), size)
        for p, size in zip(actions["path"].to_list(), actions["size_bytes"].to_list(), strict=True)
    ]
    footers = st.read_footers(files, cfg)
    rename = {raw: _logical(raw, names) for f in footers for raw in f.columns}
    st.fold_footers(footers, prof, rename)
    return footers


# -- schema history ------------------------------------------------------------------------------


def _type_text(t: Any) -> str:
    if isinstance(t, str):
        return t
    kind = t.get("type")
    if kind == "array":
        return f"array<{_type_text(t.get('elementType'))}>"
    if kind == "map":
        return f"map<{_type_text(t.get('keyType'))}, {_type_text(t.get('valueType'))}>"
    if kind == "struct":
        inner = ", ".join(f"{f['name']}: {_type_text(f['type'])}" for f in t.get("fields", ()))
        return f"struct<{inner}>"
    return json.dumps(t, sort_keys=True)


def _leaves(fields: list[dict[str, Any]], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for f in fields:
        name, t = prefix + str(f["name"]), f["type"]
        if isinstance(t, dict) and t.get("type") == "struct":
            out.update(_leaves(t.get("fields", []), name + "."))
        else:
            out[name] = _type_text(t)
    return out


def _read_commit(log: CommitLog, version: int) -> tuple[dt.datetime | None, dict[str, str] | None]:
    """A commit's time and, if it has a ``metaData`` action, its columns and types."""
    when, columns = None, None
    for action in log.actions(version):
        info, meta = action.get("commitInfo"), action.get("metaData")
        if isinstance(info, dict) and isinstance(info.get("timestamp"), int | float):
            when = timestamp(info["timestamp"])
        if isinstance(meta, dict) and isinstance(meta.get("schemaString"), str):
            columns = _leaves(json.loads(meta["schemaString"]).get("fields", []))
    return when, columns


def schema_history(target: DeltaTarget, limit: int = 1000) -> tuple[SchemaChange, ...]:
    """Column changes over the last ``limit`` JSON commits, oldest first.

    The earliest ``metaData`` in that window is the baseline; the columns of version 0 are
    reported as ``added`` there.
    """
    log = CommitLog(target)
    versions = log.versions()[-limit:] if limit > 0 else []
    with ThreadPoolExecutor(max_workers=max(1, min(st.FOOTER_THREADS, len(versions)))) as pool:
        read = list(pool.map(lambda v: _read_commit(log, v), versions))
    changes: list[SchemaChange] = []
    before: dict[str, str] | None = None
    for version, (when, columns) in zip(versions, read, strict=True):
        if columns is None:
            continue
        if before is None and version != 0:
            before = columns
            continue
        before = before or {}
        for name, t in columns.items():
            if name not in before:
                changes.append(SchemaChange(version, when, name, "added", t))
            elif before[name] != t:
                changes.append(SchemaChange(version, when, name, "type changed", t))
        changes += [
            SchemaChange(version, when, name, "dropped", t)
            for name, t in before.items()
            if name not in columns
        ]
        before = columns
    return tuple(changes)
