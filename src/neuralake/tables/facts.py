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
