"""Delta Lake tables (delta-rs), read lazily through Polars with file skipping and time travel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake import filters as flt
from neuralake.errors import InvalidParameterError, StorageError
from neuralake.metadata import Freshness
from neuralake.storage import StorageConfig, storage_options
from neuralake.tables.base import Table, check_castable, normalize

if TYPE_CHECKING:
    from deltalake import DeltaTable


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
        self, name: str, uri: str, *, partition_by: Sequence[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(name, **kwargs)
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
        try:
            table.load_as_version(_as_datetime(as_of) if as_of is not None else version)  # type: ignore[arg-type]
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
        lf = pl.scan_delta(table)
        if self.declared_schema is not None:
            source = _schema_of(table)
            check_castable(source, self.declared_schema, self.name)
            lf = normalize(lf, source, self.declared_schema)
        if self.unique_columns:
            # scan_delta yields files newest first: the first row per key is the latest write.
            lf = lf.unique(self.unique_columns, keep="first", maintain_order=True)
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


def _schema_of(table: DeltaTable) -> pl.Schema:
    import pyarrow as pa

    arrow = pa.schema(table.schema().to_arrow())
    return pl.from_arrow(arrow.empty_table()).schema  # type: ignore[union-attr]


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
