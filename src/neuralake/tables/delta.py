"""Delta Lake tables (delta-rs), read lazily through Polars with file skipping and time travel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from neuralake import filters as flt
from neuralake.errors import InvalidParameterError, StorageError
from neuralake.metadata import Freshness
from neuralake.storage import StorageConfig, storage_options
from neuralake.tables.base import Table, check_castable, normalize

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.tables import delta_write


class NeuralakeDeltaTable(Table):
    """A Delta Lake table in a local folder or on S3.

    Reads go through ``pl.scan_delta`` on a snapshot opened from the log, so column selection,
    predicates (partition and statistics file skipping) and time travel reach the scan; the
    result is conformed to the declared schema (declared order, safe casts, missing columns as
    nulls) and, with ``unique_columns``, keeps the row from the most recent commit per key.

    Args:
        name: Table name.
        uri: Table root: a local path or ``s3://bucket/prefix``.
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
        self.uri = uri.rstrip("/")
        self.partition_by = tuple(partition_by)
        if self.declared_schema is not None:
            self.check_columns(self.partition_by)

    @property
    def partitions(self) -> tuple[str, ...]:
        return self.partition_by

    @property
    def location(self) -> str | None:
        return self.uri

    def delta_table(
        self,
        storage: StorageConfig | None = None,
        *,
        version: int | None = None,
        as_of: dt.datetime | str | None = None,
    ) -> DeltaTable:
        """Open the ``deltalake.DeltaTable`` snapshot (reads the log only)."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError as DeltaNotFound

        if version is not None and as_of is not None:
            raise InvalidParameterError(f"Table {self.name!r}: pass version= or as_of=, not both.")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidParameterError(
                f"Table {self.name!r}: version must be an int, got {version!r}."
            )
        cfg = storage or self.resolve_storage()
        try:
            table = DeltaTable(self.uri, storage_options=storage_options(self.uri, cfg))
        except DeltaNotFound as exc:
            raise StorageError(
                f"Table {self.name!r}: no Delta table at {self.uri}. "
                "Check the uri, or create the table by writing to it."
            ) from exc
        except Exception as exc:
            raise StorageError(
                cfg.redact(f"Table {self.name!r}: cannot open {self.uri}: {exc}")
            ) from exc
        if version is None and as_of is None:
            return table
        latest = table.version()
        when = None if as_of is None else as_datetime(as_of, self.name)
        try:
            table.load_as_version(when if when is not None else version)  # type: ignore[arg-type]
        except Exception as exc:
            raise InvalidParameterError(
                f"Table {self.name!r} has no version {version if version is not None else as_of!r} "
                f"(versions 0..{latest}): {cfg.redact(str(exc))}"
            ) from exc
        return table

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
        if params:
            raise InvalidParameterError(
                f"Delta table {self.name!r} takes only version= or as_of=, got {sorted(params)}."
            )
        table = self.delta_table(storage, version=version, as_of=as_of)
        if version is not None or as_of is not None:  # vacuumed versions fail here, clearly
            from neuralake.tables.delta_write import check_files_present

            check_files_present(self, storage, table.version(), dt_loaded=table)
        lf = pl.scan_delta(table)
        if self.declared_schema is not None:
            source = _schema_of(table)
            check_castable(source, self.declared_schema, self.name)
            lf = normalize(lf, source, self.declared_schema)
        if self.unique_columns:
            # scan_delta yields files newest first: the first row per key is the latest write.
            # Filters run after this (an older version of a key must never resurface), except
            # those on key columns, which Polars pushes below it into the scan.
            lf = lf.unique(self.unique_columns, keep="first")
        return lf

    def discover_schema(self, storage: StorageConfig) -> pl.Schema:
        return _schema_of(self.delta_table(storage))

    def freshness(self, storage: StorageConfig | None = None) -> Freshness:
        table = self.delta_table(storage)
        last = table.history(1)[0] if table.version() >= 0 else {}
        actions = pl.DataFrame(table.get_add_actions(flatten=True))
        ts = last.get("timestamp")
        return Freshness(
            version=table.version(),
            timestamp=None
            if ts is None
            else dt.datetime.fromtimestamp(ts / 1000, dt.UTC).isoformat(),
            operation=last.get("operation"),
            num_files=actions.height,
            size_bytes=int(actions["size_bytes"].sum()) if actions.height else 0,
        )

    def history(
        self, limit: int | None = None, storage: StorageConfig | None = None
    ) -> pl.DataFrame:
        """The commit log, newest first: version, timestamp, operation, parameters, metrics."""
        table = self.delta_table(storage)
        rows = [
            {
                "version": int(h.get("version", -1)),
                "timestamp": dt.datetime.fromtimestamp(h["timestamp"] / 1000, dt.UTC)
                if "timestamp" in h
                else None,
                "operation": h.get("operation"),
                "parameters": str(h.get("operationParameters", {})),
                "metrics": str(h.get("operationMetrics", {})),
            }
            for h in table.history(limit)
        ]
        schema: dict[str, Any] = {"version": pl.Int64, "timestamp": pl.Datetime("ms", "UTC"), "operation": pl.String,
                  "parameters": pl.String, "metrics": pl.String}  # fmt: skip
        return pl.DataFrame(rows, schema=schema)

    # -- writes and maintenance (implemented in neuralake.tables.delta_write) --------------------

    def exists(self, storage: StorageConfig | None = None) -> bool:
        """True when a Delta table exists at :attr:`uri`."""
        from neuralake.tables import delta_write

        return delta_write.exists(self, storage)

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
        from neuralake.tables import delta_write

        return delta_write.create(self, exist_ok=exist_ok, storage=storage)

    def write(
        self,
        data: Any,
        mode: delta_write.WriteMode = "append",
        *,
        predicate: str | None = None,
        schema_mode: delta_write.SchemaMode | None = None,
        target_file_size: int | None = None,
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
        from neuralake.tables import delta_write

        return delta_write.write(
            self,
            data,
            mode,
            predicate=predicate,
            schema_mode=schema_mode,
            target_file_size=target_file_size,
            storage=storage,
        )

    def merge(
        self,
        data: Any,
        on: Sequence[str] | None = None,
        *,
        delete_not_matched_by_source: str | bool | None = None,
        restrict_to_source_partitions: bool = True,
        schema_mode: Literal["merge"] | None = None,
        storage: StorageConfig | None = None,
    ) -> delta_write.MergeMetrics:
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
            storage: Storage settings overriding the table's.

        Returns:
            :class:`~neuralake.tables.delta_write.MergeMetrics` (rows inserted/updated/deleted,
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
        from neuralake.tables import delta_write

        return delta_write.merge(
            self,
            data,
            on,
            delete_not_matched_by_source=delete_not_matched_by_source,
            restrict_to_source_partitions=restrict_to_source_partitions,
            schema_mode=schema_mode,
            storage=storage,
        )

    def upsert(
        self, data: Any, *, storage: StorageConfig | None = None
    ) -> delta_write.MergeMetrics:
        """:meth:`merge` on :attr:`unique_columns` (update matched rows, insert the rest)."""
        return self.merge(data, storage=storage)

    def restore(
        self, version: int | dt.datetime | str, *, storage: StorageConfig | None = None
    ) -> delta_write.RestoreMetrics:
        """Make an earlier version current again, as a new commit (history is kept).

        Restoring the current version is a no-op (``changed=False``); a version whose files
        were vacuumed raises ``StorageError`` naming the oldest readable version.
        """
        from neuralake.tables import delta_write

        return delta_write.restore(self, version, storage=storage)

    def vacuum(
        self,
        retention_hours: int | None = None,
        dry_run: bool = True,
        enforce_retention: bool = True,
        *,
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
            The file URIs (to be) deleted, sorted.
        """
        from neuralake.tables import delta_write

        return delta_write.vacuum(
            self,
            retention_hours,
            dry_run=dry_run,
            enforce_retention=enforce_retention,
            full=full,
            storage=storage,
        )

    def optimize(
        self,
        z_order: Sequence[str] | None = None,
        target_size: int | None = None,
        *,
        storage: StorageConfig | None = None,
    ) -> delta_write.OptimizeMetrics:
        """Compact small files, or z-order them by ``z_order`` columns; returns metrics."""
        from neuralake.tables import delta_write

        return delta_write.optimize(self, z_order=z_order, target_size=target_size, storage=storage)


def _schema_of(table: DeltaTable) -> pl.Schema:
    return pl.Schema(table.schema())  # through the Arrow C schema interface


def as_datetime(value: dt.datetime | str, table: str) -> dt.datetime:
    """``as_of`` as an aware datetime (naive values are UTC)."""
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError as exc:
        raise InvalidParameterError(
            f"Table {table!r}: as_of={value!r} is not an ISO-8601 time such as "
            "'2026-11-01T12:00:00+00:00'."
        ) from exc
    if not isinstance(when, dt.datetime):
        raise InvalidParameterError(
            f"Table {table!r}: as_of must be a datetime or an ISO-8601 string, got {value!r}."
        )
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
