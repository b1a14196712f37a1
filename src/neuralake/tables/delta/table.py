"""The Delta Lake table type: one public method per operation, each resolving storage once
and handing plain values (a :class:`DeltaTarget`) to the helper modules, which never import
this one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from neuralake import filters as flt
from neuralake.errors import InvalidParameterError
from neuralake.tables.base import Table
from neuralake.tables.delta import log, maintenance, readers
from neuralake.tables.delta import merge as merging
from neuralake.tables.delta import read as reading
from neuralake.tables.delta import snapshot as snap
from neuralake.tables.delta import stats as delta_stats
from neuralake.tables.delta import write as writing
from neuralake.tables.delta.errors import translated
from neuralake.tables.delta.target import DeltaTarget
from neuralake.tables.facts import TableFacts

if TYPE_CHECKING:
    import daft
    from deltalake import DeltaTable

    from neuralake.storage import StorageConfig
    from neuralake.tables.delta.metrics import (
        MergeMetrics,
        OptimizeMetrics,
        RestoreMetrics,
        SchemaMode,
        WriteMode,
    )
    from neuralake.tables.facts import (
        Commit,
        SchemaChange,
        ServingInfo,
        StoredLayout,
        TableStats,
    )


class NeuralakeDeltaTable(Table):
    """A Delta Lake table in a local folder or on S3.

    Reads go through ``pl.scan_delta`` on a snapshot opened from the log, so column selection,
    predicates (partition and statistics file skipping) and time travel reach the scan; the
    result is conformed to the declared schema (declared order, safe casts, missing columns as
    nulls) and, with ``unique_columns``, keeps the row from the most recent commit per key.

    Writes check the data against the declared schema and the stored table first. On S3 and
    S3-compatible stores commits use conditional PUT (AWS S3, recent MinIO, R2, moto).

    Args:
        name: Table name.
        uri: Table root: a local path or ``s3://bucket/prefix``;
            a relative local path is resolved against the project root (see
            :meth:`~neuralake.tables.base.Table.resolve_uri`).
        schema: Declared schema (``pyarrow.Schema``, ``pl.Schema`` or dict).
        partition_by: Partition columns.
        allow_unsafe_rename: Let writes on S3 stores without conditional PUT use delta-rs'
            unsafe rename (safe only with a single writer).
        **kwargs: Documentation arguments of :class:`~neuralake.tables.base.Table`.

    Example:
        >>> import pyarrow as pa
        >>> orders = NeuralakeDeltaTable("orders", "lake/tpch/orders",
        ...     schema=pa.schema([("o_orderkey", pa.int64()), ("o_orderyear", pa.int32())]),
        ...     partition_by=["o_orderyear"], unique_columns=["o_orderkey"])
        >>> orders.partitions
        ('o_orderyear',)
    """

    table_type = "delta"

    def __init__(
        self,
        name: str,
        uri: str,
        *,
        partition_by: Sequence[str] = (),
        allow_unsafe_rename: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, **kwargs)
        self.allow_unsafe_rename = allow_unsafe_rename
        self.uri = self.resolve_uri(uri.rstrip("/"))  # relative: from the project root
        self.partition_by = tuple(partition_by)
        if self.declared_schema is not None:
            self.check_columns(self.partition_by)

    @property
    def partitions(self) -> tuple[str, ...]:
        return self.partition_by

    @property
    def location(self) -> str | None:
        return self.uri

    def _target(self, cfg: StorageConfig) -> DeltaTarget:
        """The plain values the helpers take, for storage ``cfg`` (already resolved)."""
        lines = self.description.strip().splitlines()
        return DeltaTarget(
            uri=self.uri,
            label=self.qualified_name,
            name=self.name,
            cfg=cfg,
            partition_by=self.partition_by,
            declared_schema=self.declared_schema,
            unique_columns=self.unique_columns,
            allow_unsafe_rename=self.allow_unsafe_rename,
            summary=lines[0] if lines else None,
        )

    # -- reading -------------------------------------------------------------------------------

    def delta_table(
        self,
        storage: StorageConfig | None = None,
        *,
        version: int | None = None,
        as_of: dt.datetime | str | None = None,
    ) -> DeltaTable:
        """Open the ``deltalake.DeltaTable`` snapshot (reads the log only)."""
        target = self._target(self.resolve_storage(storage))
        return snap.open_snapshot(target, version=version, as_of=as_of)

    def _no_more(self, params: dict[str, Any]) -> None:
        if params:
            raise InvalidParameterError(
                f"Delta table {self.qualified_name!r} takes only version= or as_of=, "
                f"got {sorted(params)}."
            )

    def read(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        *,
        version: int | None = None,
        as_of: dt.datetime | str | None = None,
        **params: Any,
    ) -> pl.LazyFrame:
        self._no_more(params)
        # ``storage`` is resolved by scan(); ``filters`` is bound there when a schema is declared
        return reading.scan(self._target(storage), version=version, as_of=as_of, predicate=filters)

    def read_daft(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        *,
        version: int | None = None,
        as_of: dt.datetime | str | None = None,
        **params: Any,
    ) -> daft.DataFrame:
        """The snapshot as a Daft frame (see :mod:`neuralake.tables.delta.daft`)."""
        from neuralake.tables.delta import daft as daft_reader

        self._no_more(params)
        return daft_reader.read(self._target(storage), version=version, as_of=as_of)

    def discover_schema(self, storage: StorageConfig) -> pl.Schema:
        # ``storage`` is resolved by the caller
        return snap.from_log(self._target(storage), log.schema_of, "read the schema")

    # -- asking the table ----------------------------------------------------------------------

    def inspect(self, storage: StorageConfig | None = None, *, history: int = 0) -> TableFacts:
        """Facts from the Delta log, opened once: the schema when none is declared, freshness,
        the last ``history`` commits (newest first) and the columns with min/max statistics."""
        with_schema = self.declared_schema is None
        target = self._target(self.resolve_storage(storage))

        def read(table: DeltaTable) -> TableFacts:
            found = log.facts(table, history=history, with_schema=with_schema)
            return replace(found, reader=readers.choose(table, target.label))

        return snap.from_log(target, read, "read the log")

    def layout(self, storage: StorageConfig | None = None) -> StoredLayout:
        """The stored schema and partition columns, from the log."""
        return snap.from_log(
            self._target(self.resolve_storage(storage)), log.layout, "read the log"
        )

    def serving(self, storage: StorageConfig | None = None) -> ServingInfo:
        """The table root, partition columns and live data files, from the log."""
        target = self._target(self.resolve_storage(storage))
        return snap.from_log(target, lambda table: log.serving(table, self.uri), "read the log")

    def stats(self, storage: StorageConfig | None = None) -> TableStats:
        """Rows, files, bytes, partitions and column profiles from the log's add actions
        (``numRecords``, ``minValues``, ``maxValues``, ``nullCount``); when the log has no
        ``numRecords``, from the data files' Parquet footers. String bounds of 32 characters
        or more are marked as possibly truncated (writers keep a 32-character prefix).

        Example:
            >>> import tempfile, polars as pl, pyarrow as pa
            >>> t = NeuralakeDeltaTable("kv", tempfile.mkdtemp() + "/kv",
            ...     schema=pa.schema([("k", pa.int64()), ("v", pa.string())]))
            >>> _ = t.write(pl.DataFrame({"k": [1, 2, 3], "v": ["a", None, "c"]}))
            >>> s = t.stats()
            >>> s.rows, s.files, s.source
            (3, 1, 'delta log add stats')
            >>> [(c.name, c.min, c.max, c.null_count) for c in s.columns]
            [('k', 1, 3, 0), ('v', 'a', 'c', 1)]
        """
        target = self._target(self.resolve_storage(storage))
        return snap.from_log(
            target,
            lambda table: delta_stats.table_stats(table, self.uri, target.cfg),
            "read the log",
        )

    def schema_history(
        self, storage: StorageConfig | None = None, *, limit: int = 1000
    ) -> tuple[SchemaChange, ...]:
        """Columns added, retyped or dropped, oldest first, from the ``metaData`` actions of
        the last ``limit`` JSON commits (version 0's columns are listed as added)."""
        target = self._target(self.resolve_storage(storage))
        snap.require(target)
        with translated(target, "read the schema history"):
            return delta_stats.schema_history(target, limit)

    def commits(
        self, limit: int | None = None, *, storage: StorageConfig | None = None
    ) -> tuple[Commit, ...]:
        """The last ``limit`` commits (all when ``None``), newest first.

        Commits written without ``commitInfo`` (some writers omit it) are not listed.
        """
        return tuple(e.commit for e in self._log_entries(limit, storage))

    def history(
        self, limit: int | None = None, *, storage: StorageConfig | None = None
    ) -> pl.DataFrame:
        """The commit log, newest first: version, timestamp, operation, parameters, metrics.

        ``parameters`` and ``metrics`` are JSON objects (text) with sorted keys.
        """
        return log.history_frame(self._log_entries(limit, storage))

    def _log_entries(
        self, limit: int | None, storage: StorageConfig | None
    ) -> tuple[log.LogEntry, ...]:
        log.check_limit(limit, self.qualified_name)
        target = self._target(self.resolve_storage(storage))
        return snap.from_log(target, lambda table: log.entries(table, limit), "read the history")

    # -- writing -------------------------------------------------------------------------------

    def exists(self, storage: StorageConfig | None = None) -> bool:
        """True when a Delta table exists at :attr:`uri`."""
        return snap.exists(self._target(self.resolve_storage(storage)))

    def create(self, *, exist_ok: bool = False, storage: StorageConfig | None = None) -> int:
        """Create the empty table from the declared schema and partitioning.

        Returns:
            The table version (0 for a new table).

        Example:
            >>> import tempfile, pyarrow as pa
            >>> t = NeuralakeDeltaTable("events", tempfile.mkdtemp() + "/events",
            ...     schema=pa.schema([("id", pa.int64()), ("day", pa.string())]), partition_by=["day"])
            >>> t.create(), t.exists()
            (0, True)
        """
        return writing.create(self._target(self.resolve_storage(storage)), exist_ok=exist_ok)

    def write(
        self,
        data: Any,
        mode: WriteMode = "append",
        *,
        predicate: str | None = None,
        schema_mode: SchemaMode | None = None,
        target_file_size: int | None = None,
        snapshot: DeltaTable | None = None,
        storage: StorageConfig | None = None,
    ) -> int | None:
        """Write a Polars DataFrame/LazyFrame or Arrow data, partitioned by :attr:`partition_by`.

        The data is checked against the declared schema first (missing, undeclared and
        incompatible columns raise ``SchemaMismatchError`` listing each; safe casts are applied).
        Concurrent appends are retried with jittered backoff; a real conflict raises
        ``CommitConflictError`` naming the winning version.

        Args:
            data: The rows to write.
            mode: ``"append"``, ``"overwrite"``, ``"error"`` (fail if the table exists) or
                ``"ignore"`` (do nothing if it exists).
            predicate: With ``mode="overwrite"``, replace only the rows matching this SQL
                predicate (e.g. ``"o_orderyear = 1995"``); the data must match it too.
            schema_mode: ``"merge"`` adds new columns to the table (declare them afterwards).
            target_file_size: Target Parquet file size in bytes.
            snapshot: A snapshot from :meth:`delta_table` to base the write on (optimistic
                concurrency): a conflicting commit after it raises ``CommitConflictError``
                instead of being retried.
            storage: Storage settings overriding the table's.

        Returns:
            The new table version (``None`` when ``mode="ignore"`` skipped the write).

        Example:
            >>> import tempfile, polars as pl, pyarrow as pa
            >>> t = NeuralakeDeltaTable("events", tempfile.mkdtemp() + "/events",
            ...     schema=pa.schema([("id", pa.int64()), ("day", pa.string())]), partition_by=["day"])
            >>> t.write(pl.DataFrame({"id": [1, 2], "day": ["mon", "tue"]}))
            0
            >>> t.write(pl.DataFrame({"id": [3], "day": ["mon"]}), "overwrite", predicate="day = 'mon'")
            1
            >>> t().sort("id").collect()["id"].to_list()
            [2, 3]
        """
        return writing.write(
            self._target(self.resolve_storage(storage)),
            data,
            mode,
            predicate=predicate,
            schema_mode=schema_mode,
            target_file_size=target_file_size,
            snapshot=snapshot,
        )

    def merge(
        self,
        data: Any,
        on: Sequence[str] | None = None,
        *,
        delete_not_matched_by_source: str | bool | None = None,
        restrict_to_source_partitions: bool = True,
        schema_mode: Literal["merge"] | None = None,
        snapshot: DeltaTable | None = None,
        storage: StorageConfig | None = None,
    ) -> MergeMetrics:
        """Upsert ``data`` keyed on ``on`` (default :attr:`unique_columns`).

        Matched rows are updated (all columns), unmatched source rows inserted. The merge is
        restricted to the partitions present in the source (``t.part IN (...)``), so other
        partitions are neither read nor rewritten; a key is assumed to stay in its partition.

        Args:
            data: Source rows; each key at most once.
            on: Key columns.
            delete_not_matched_by_source: A SQL predicate on the target (alias ``t``, e.g.
                ``"t.day = 'mon'"``): target rows matching it and absent from the source are
                deleted. ``True`` deletes every target row absent from the source.
            restrict_to_source_partitions: Add the partition restriction (default true).
            schema_mode: ``"merge"`` adds new source columns to the table.
            snapshot: A snapshot from :meth:`delta_table` to base the merge on; a conflicting
                commit after it raises ``CommitConflictError`` instead of being retried.
            storage: Storage settings overriding the table's.

        Returns:
            :class:`~neuralake.tables.delta.MergeMetrics` (rows inserted/updated/deleted,
            files added/removed).

        Example:
            >>> import tempfile, polars as pl, pyarrow as pa
            >>> t = NeuralakeDeltaTable("kv", tempfile.mkdtemp() + "/kv",
            ...     schema=pa.schema([("k", pa.int64()), ("v", pa.string())]), unique_columns=["k"])
            >>> _ = t.write(pl.DataFrame({"k": [1, 2], "v": ["a", "b"]}))
            >>> m = t.merge(pl.DataFrame({"k": [2, 3], "v": ["B", "c"]}))
            >>> (m.rows_updated, m.rows_inserted)
            (1, 1)
        """
        return merging.merge(
            self._target(self.resolve_storage(storage)),
            data,
            on,
            delete_not_matched_by_source=delete_not_matched_by_source,
            restrict_to_source_partitions=restrict_to_source_partitions,
            schema_mode=schema_mode,
            snapshot=snapshot,
        )

    def upsert(self, data: Any, *, storage: StorageConfig | None = None) -> MergeMetrics:
        """:meth:`merge` on :attr:`unique_columns` (update matched rows, insert the rest)."""
        return self.merge(data, storage=storage)

    # -- maintenance ---------------------------------------------------------------------------

    def restore(
        self, version: int | dt.datetime | str, *, storage: StorageConfig | None = None
    ) -> RestoreMetrics:
        """Make an earlier version current again, as a new commit (history is kept).

        Restoring the current version is a no-op (``changed=False``); a version whose files
        were vacuumed raises ``StorageError`` naming the oldest readable version.
        """
        return maintenance.restore(self._target(self.resolve_storage(storage)), version)

    def vacuum(
        self,
        retention_hours: int | None = None,
        *,
        dry_run: bool = True,
        enforce_retention: bool = True,
        full: bool = True,
        storage: StorageConfig | None = None,
    ) -> list[str]:
        """List (``dry_run``, the default) or delete files no snapshot within the retention needs.

        Args:
            retention_hours: Keep files needed by versions newer than this (default: the
                table's ``delta.deletedFileRetentionDuration``, 7 days).
            dry_run: Only report; pass ``False`` to delete.
            enforce_retention: Refuse retentions below the table's minimum unless ``False``.
            full: Also report files no commit references (e.g. left by a crashed writer).
            storage: Storage settings overriding the table's.

        Returns:
            The paths (to be) deleted, relative to the table root, sorted.
        """
        return maintenance.vacuum(
            self._target(self.resolve_storage(storage)),
            retention_hours,
            dry_run=dry_run,
            enforce_retention=enforce_retention,
            full=full,
        )

    def optimize(
        self,
        z_order: Sequence[str] | None = None,
        target_size: int | None = None,
        *,
        storage: StorageConfig | None = None,
    ) -> OptimizeMetrics:
        """Compact small files, or z-order them by ``z_order`` columns; returns metrics.

        A keyed table that a foreign commit made non-unique is first rewritten with one row
        per key (compaction would lose which row of a key is newest).
        """
        target = self._target(self.resolve_storage(storage))
        writing.repair(target)
        return maintenance.optimize(target, z_order=z_order, target_size=target_size)
