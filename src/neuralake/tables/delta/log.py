"""Facts read from an open Delta snapshot's log: schema, partitioning, commits, freshness,
files and statistics columns (metadata only, never a data scan)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import polars as pl

from neuralake.errors import InvalidParameterError
from neuralake.metadata import Freshness
from neuralake.tables.facts import Commit, ServingInfo, StoredLayout, TableFacts

if TYPE_CHECKING:
    from deltalake import DeltaTable

HISTORY_SCHEMA: dict[str, Any] = {
    "version": pl.Int64,
    "timestamp": pl.Datetime("ms", "UTC"),
    "operation": pl.String,
    "parameters": pl.String,
    "metrics": pl.String,
}


@dataclass(frozen=True)
class LogEntry:
    """One commit as the log records it: the typed :class:`Commit` and its metrics.

    Attributes:
        commit: Version, time, operation and parameters.
        metrics: The operation's metrics as JSON text with sorted keys.
    """

    commit: Commit
    metrics: str = "{}"


def schema_of(table: DeltaTable) -> pl.Schema:
    """The stored schema (through the Arrow C schema interface)."""
    return pl.Schema(table.schema())


def partition_columns(table: DeltaTable) -> tuple[str, ...]:
    return tuple(table.metadata().partition_columns)


def timestamp(millis: Any) -> dt.datetime | None:
    if not isinstance(millis, int | float):
        return None
    ms = int(millis)  # whole milliseconds, so float rounding cannot shift the time
    return dt.datetime.fromtimestamp(ms // 1000, dt.UTC) + dt.timedelta(milliseconds=ms % 1000)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def check_limit(limit: object, label: str) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise InvalidParameterError(
            f"Table {label!r}: limit must be an int or None, got {limit!r}."
        )


def entries(table: DeltaTable, limit: int | None = None) -> tuple[LogEntry, ...]:
    """The last ``limit`` commits (all when ``None``), newest first.

    Commits written without ``commitInfo`` are absent from delta-rs' history, so this may hold
    fewer entries than asked for, or none.
    """
    if limit is not None and limit <= 0:
        return ()
    found = []
    for info in table.history(limit):
        if "version" not in info:
            continue
        params = info.get("operationParameters") or {}
        metrics = info.get("operationMetrics") or {}
        commit = Commit(
            version=int(info["version"]),
            timestamp=timestamp(info.get("timestamp")),
            operation=info.get("operation"),
            parameters=tuple(sorted((str(k), _text(v)) for k, v in params.items())),
        )
        found.append(LogEntry(commit, json.dumps(metrics, sort_keys=True, default=str)))
    return tuple(sorted(found, key=lambda e: -e.commit.version))


def history_frame(logged: tuple[LogEntry, ...]) -> pl.DataFrame:
    """The ``history()`` frame: version, timestamp, operation, parameters and metrics (JSON)."""
    rows = [
        {
            "version": e.commit.version,
            "timestamp": e.commit.timestamp,
            "operation": e.commit.operation,
            "parameters": json.dumps(dict(e.commit.parameters), sort_keys=True),
            "metrics": e.metrics,
        }
        for e in logged
    ]
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)


def add_actions(table: DeltaTable) -> pl.DataFrame:
    """One row per data file of the snapshot (path, size, partition values, statistics)."""
    return pl.DataFrame(table.get_add_actions(flatten=True))


def file_uri(root: str, path: str) -> str:
    """The URI of a data file from its add-action ``path`` (URL-encoded; relative to the table
    ``root``, or absolute as some writers store it)."""
    rel = unquote(path)
    return rel if "://" in rel else f"{root.rstrip('/')}/{rel}"


def files(actions: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """``(path relative to the table root, bytes)`` per data file, sorted by path.

    The log stores paths URL-encoded; decoding once gives the path in storage.
    """
    if actions.height == 0:
        return ()
    pairs = zip(actions["path"].to_list(), actions["size_bytes"].to_list(), strict=True)
    return tuple(sorted((unquote(path), int(size or 0)) for path, size in pairs))


def logical_names(table: DeltaTable) -> dict[str, str]:
    """Physical column name to logical name, for tables with column mapping (else empty)."""
    key = "delta.columnMapping.physicalName"
    return {f.metadata[key]: f.name for f in table.schema().fields if key in f.metadata}


def stats_columns(actions: pl.DataFrame, names: dict[str, str] | None = None) -> tuple[str, ...]:
    """Top-level columns with min and max statistics in at least one data file.

    ``names`` maps physical column names (column mapping) to the logical ones reported.
    """
    present: dict[str, set[str]] = {}
    for name in actions.columns:
        kind, _, column = name.partition(".")
        if kind in ("min", "max") and column and actions[name].is_not_null().any():
            top = column.split(".", 1)[0]
            present.setdefault((names or {}).get(top, top), set()).add(kind)
    return tuple(sorted(c for c, kinds in present.items() if kinds == {"min", "max"}))


def freshness(version: int, last: Commit | None, actions: pl.DataFrame) -> Freshness:
    """The current version, its commit (if the log recorded one) and the live files."""
    size = int(actions["size_bytes"].sum()) if actions.height else 0
    ts = None if last is None or last.timestamp is None else last.timestamp.isoformat()
    return Freshness(
        version=version,
        timestamp=ts,
        operation=None if last is None else last.operation,
        num_files=actions.height,
        size_bytes=size,
    )


def facts(table: DeltaTable, *, history: int = 0, with_schema: bool = False) -> TableFacts:
    """Everything :meth:`~neuralake.tables.base.Table.inspect` reports, from one snapshot."""
    version = table.version()
    logged = entries(table, max(history, 1))
    last = logged[0].commit if logged and logged[0].commit.version == version else None
    actions = add_actions(table)
    return TableFacts(
        schema=schema_of(table) if with_schema else None,
        freshness=freshness(version, last, actions),
        history=tuple(e.commit for e in logged[:history]) if history > 0 else (),
        stats_columns=stats_columns(actions, logical_names(table)),
    )


def layout(table: DeltaTable) -> StoredLayout:
    """The stored schema and partition columns."""
    return StoredLayout(schema_of(table), partition_columns(table))


def serving(table: DeltaTable, uri: str) -> ServingInfo:
    """What an external engine needs: the root, partition columns (hive) and live files."""
    schema = schema_of(table)
    parts = partition_columns(table)
    return ServingInfo(
        format="delta",
        uri=uri,
        partitions=tuple((p, schema[p]) for p in parts),
        partitioning_scheme="hive" if parts else None,
        files=files(add_actions(table)),
    )
