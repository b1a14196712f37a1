"""Typed facts a table reports about its storage, read from metadata (never a data scan).

Exports, the site, contracts, the ROAPI export and the CLI ask a table for these records
(:meth:`~neuralake.tables.base.Table.inspect`, :meth:`~neuralake.tables.base.Table.layout`,
:meth:`~neuralake.tables.base.Table.serving`) instead of looking at its class.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from neuralake.metadata import Freshness

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class Commit:
    """One entry of a versioned table's commit log.

    Attributes:
        version: The version the commit created.
        timestamp: When it was committed (UTC), if the log says.
        operation: ``WRITE``, ``MERGE``, ``OPTIMIZE``... as the writer recorded it.
        parameters: Operation parameters as ``(key, text)`` pairs, sorted by key.
    """

    version: int
    timestamp: dt.datetime | None = None
    operation: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "timestamp": None if self.timestamp is None else self.timestamp.isoformat(),
            "operation": self.operation,
            "parameters": dict(self.parameters),
        }


@dataclass(frozen=True)
class TableFacts:
    """What storage metadata says about a table.

    Attributes:
        schema: The stored schema when no schema is declared (``None`` if declared or unknown).
        freshness: Version and last change, for tables with a log.
        history: The most recent commits, newest first (as many as asked for).
        stats_columns: Columns with file statistics, for tables that keep them.
        reader: Which reader serves the data when a table type has several (Delta:
            ``"polars"``, or ``"delta-rs"`` for reader features Polars lacks).
    """

    schema: pl.Schema | None = None
    freshness: Freshness | None = None
    history: tuple[Commit, ...] = ()
    stats_columns: tuple[str, ...] | None = None
    reader: str | None = None


@dataclass(frozen=True)
class StoredLayout:
    """What storage holds, for comparing with the declaration (``neuralake check``).

    Attributes:
        schema: The stored schema (Delta log, a Parquet footer, a function's frame).
        partitions: Stored partition columns (``None``: storage does not say).
        folder_columns: Columns whose values live in folder names and may be absent in files.
    """

    schema: pl.Schema
    partitions: tuple[str, ...] | None = None
    folder_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServingInfo:
    """What an external engine needs to read a table's files directly.

    Attributes:
        format: ``"delta"`` or ``"parquet"``.
        uri: The table root (local path or ``s3://``).
        partitions: ``(name, polars dtype)`` of each partition column, in nesting order.
        partitioning_scheme: ``"hive"``, ``"directory"`` or ``None``.
        files: ``(path relative to uri, bytes)`` of the files an engine would read.
        file_columns: Columns stored inside the data files (``None`` when not looked up).
    """

    format: Literal["delta", "parquet"]
    uri: str
    partitions: tuple[tuple[str, Any], ...] = ()
    partitioning_scheme: str | None = None
    files: tuple[tuple[str, int], ...] = ()
    file_columns: tuple[str, ...] | None = None

    @property
    def size_bytes(self) -> int:
        return sum(size for _, size in self.files)


#: Scalars as JSON-safe values: numbers and booleans as they are, everything else as text.
Scalar = int | float | bool | str | None


def json_scalar(value: Any) -> Scalar:
    """``value`` as a JSON-safe scalar (dates, decimals and bytes become text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ColumnProfile:
    """Min, max and null count of one column, aggregated over file statistics.

    Attributes:
        name: Column name; a nested field is ``parent.child``.
        min: Smallest value over all files (``None``: some file does not say).
        max: Largest value over all files (``None``: some file does not say).
        null_count: Nulls over all files (``None``: some file does not say).
        null_fraction: ``null_count / rows`` when both are known.
        source: What the numbers were read from (``"delta log add stats"``, ``"parquet footers"``,
            ``"partition folders"``).
        note: Why a value is missing or approximate (e.g. ``"string stats truncated"``).
    """

    name: str
    min: Scalar = None
    max: Scalar = None
    null_count: int | None = None
    null_fraction: float | None = None
    source: str = ""
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "min": self.min,
            "max": self.max,
            "null_count": self.null_count,
            "null_fraction": self.null_fraction,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True)
class TableStats:
    """Size and shape of a table's current data, from metadata (never a data scan).

    Attributes:
        rows: Row count (``None``: the metadata does not say; see ``note``).
        files: Number of data files.
        bytes: Total size of the data files.
        partitions: Distinct partition value combinations (``None`` when unpartitioned).
        source: What the facts were read from.
        note: Why something is unknown or approximate.
        columns: Per-column profiles, in schema order (nested fields flattened).
    """

    rows: int | None = None
    files: int | None = None
    bytes: int | None = None
    partitions: int | None = None
    source: str = ""
    note: str | None = None
    columns: tuple[ColumnProfile, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "files": self.files,
            "bytes": self.bytes,
            "partitions": self.partitions,
            "source": self.source,
            "note": self.note,
            "columns": [c.to_dict() for c in self.columns],
        }


@dataclass(frozen=True)
class SchemaChange:
    """One column change in a versioned table's schema history.

    Attributes:
        version: The commit that made the change.
        timestamp: When it was committed (UTC), if the log says.
        column: Column name (nested fields as ``parent.child``).
        change: ``"added"``, ``"type changed"`` or ``"dropped"``.
        type: The column's type after the change (before it, for ``"dropped"``), as the log
            spells it (``long``, ``string``, ``struct<...>``).
    """

    version: int
    timestamp: dt.datetime | None
    column: str
    change: Literal["added", "type changed", "dropped"]
    type: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "timestamp": None if self.timestamp is None else self.timestamp.isoformat(),
            "column": self.column,
            "change": self.change,
            "type": self.type,
        }
