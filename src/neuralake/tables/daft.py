"""Daft frames of stored tables: explicit Parquet files, or a Polars plan run in one task.

Imported only by the Daft engine (``daft`` is an optional dependency). Both sources are Daft
``DataSource`` objects, so nothing is listed twice or read before the frame is executed, and
Daft pushes its column selection and filters into the Parquet reads.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import daft
import polars as pl
import pyarrow as pa
from daft.daft import ParquetSourceConfig
from daft.daft import StorageConfig as DaftStorage
from daft.expressions import ExpressionsProjection
from daft.io.partitioning import PartitionField
from daft.io.source import DataSource, DataSourceTask
from daft.recordbatch import RecordBatch

from neuralake.errors import StorageError
from neuralake.storage import arrow_filesystem, daft_io_config
from neuralake.tables.base import check_castable

if TYPE_CHECKING:
    from daft.io.pushdowns import Pushdowns

    from neuralake.storage import StorageConfig


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    """``schema`` in Arrow form (strings as ``large_string``, as Daft reads them)."""
    return pl.DataFrame(schema=schema).to_arrow().schema


def polars_schema(df: daft.DataFrame) -> pl.Schema:
    """The Polars schema of a Daft frame (through Arrow)."""
    return pl.Schema(pl.from_arrow(df.schema().to_pyarrow_schema().empty_table()).schema)  # type: ignore[union-attr]


class FilesSource(DataSource):
    """Explicit Parquet files (never globbed) with their partition values, read by Daft."""

    def __init__(
        self,
        files: Sequence[tuple[str, tuple[Any, ...]]],
        file_schema: pl.Schema,
        partitions: pl.Schema,
        storage: StorageConfig,
        *,
        int96: bool = False,
    ) -> None:
        self._files = list(files)
        self._partitions = partitions
        self._schema = daft.Schema.from_pyarrow_schema(
            arrow_schema(pl.Schema({**file_schema, **partitions}))
        )
        self._storage = DaftStorage(True, daft_io_config(storage))
        self._config = (
            ParquetSourceConfig(coerce_int96_timestamp_unit=daft.TimeUnit.us()._timeunit)
            if int96
            else None
        )

    @property
    def name(self) -> str:
        return "neuralake-parquet"

    @property
    def schema(self) -> daft.Schema:
        return self._schema

    def get_partition_fields(self) -> list[PartitionField]:
        return [PartitionField.create(self._schema[n]) for n in self._partitions]

    async def get_tasks(self, pushdowns: Pushdowns) -> AsyncIterator[DataSourceTask]:
        arrow = arrow_schema(self._partitions)
        # Daft hands filters on partition columns to the source and does not apply them again.
        keep = pushdowns.partition_filters
        kept: dict[tuple[Any, ...], RecordBatch | None] = {}  # built once per partition
        for path, values in self._files:
            if values not in kept:
                kept[values] = self._partition(values, arrow, keep)
            partition = kept[values]
            if values and partition is None:
                continue
            yield DataSourceTask.parquet(
                path,
                self._schema,
                pushdowns=pushdowns,
                partition_values=partition,
                storage_config=self._storage,
                parquet_config=self._config,
            )

    @staticmethod
    def _partition(
        values: tuple[Any, ...], arrow: pa.Schema, keep: daft.Expression | None
    ) -> RecordBatch | None:
        """One partition's values as a record batch; ``None`` when ``keep`` drops it."""
        if not values:
            return None
        row = pa.table([pa.array([v], f.type) for v, f in zip(values, arrow, strict=True)],
                       schema=arrow)  # fmt: skip
        batch = RecordBatch.from_arrow_table(row)
        if keep is not None and not len(batch.filter(ExpressionsProjection([keep]))):
            return None
        return batch


class _ArrowFileTask(DataSourceTask):
    def __init__(
        self, uri: str, values: dict[str, Any], schema: daft.Schema, storage: StorageConfig
    ) -> None:
        self._uri, self._values, self._schema, self._storage = uri, values, schema, storage

    @property
    def schema(self) -> daft.Schema:
        return self._schema

    async def read(self) -> AsyncIterator[RecordBatch]:
        import pyarrow.parquet as pq

        fs, path = arrow_filesystem(self._uri, self._storage)
        try:
            table = pq.read_table(path, filesystem=fs)
        except (OSError, ValueError) as exc:
            raise StorageError(self._storage.redact(f"Cannot read {self._uri}: {exc}")) from exc
        target = self._schema.to_pyarrow_schema()
        columns = []
        for f in target:
            if f.name in self._values:
                columns.append(pa.array([self._values[f.name]] * table.num_rows, f.type))
            elif f.name in table.column_names:
                columns.append(table.column(f.name).cast(f.type))
            else:  # added to the table after this file was written
                columns.append(pa.nulls(table.num_rows, f.type))
        yield RecordBatch.from_arrow_table(pa.table(columns, schema=target))


class ArrowFilesSource(DataSource):
    """Parquet files read by pyarrow, one Daft task each, for files Daft's own reader cannot
    decode (footers declaring Arrow string views). Every file's columns are read whole and
    Daft applies the filters and the projection itself (no partition fields are declared)."""

    def __init__(
        self, files: Sequence[tuple[str, dict[str, Any]]], schema: pl.Schema, storage: StorageConfig
    ) -> None:
        self._files = list(files)
        self._schema = daft.Schema.from_pyarrow_schema(arrow_schema(schema))
        self._storage = storage

    @property
    def name(self) -> str:
        return "neuralake-pyarrow"

    @property
    def schema(self) -> daft.Schema:
        return self._schema

    async def get_tasks(self, pushdowns: Pushdowns) -> AsyncIterator[DataSourceTask]:
        for uri, values in self._files:
            yield _ArrowFileTask(uri, values, self._schema, self._storage)


class _FrameTask(DataSourceTask):
    def __init__(self, frame: pl.LazyFrame, schema: daft.Schema) -> None:
        self._frame = frame
        self._schema = schema

    @property
    def schema(self) -> daft.Schema:
        return self._schema

    async def read(self) -> AsyncIterator[RecordBatch]:
        yield RecordBatch.from_arrow_table(self._frame.collect().to_arrow())


class FrameSource(DataSource):
    """A Polars lazy frame collected in one Daft task when the Daft frame runs (not
    distributed: the frame's own plan decides what it reads)."""

    def __init__(self, frame: pl.LazyFrame, schema: pl.Schema) -> None:
        self._frame = frame
        self._schema = daft.Schema.from_pyarrow_schema(arrow_schema(schema))

    @property
    def name(self) -> str:
        return "neuralake-polars"

    @property
    def schema(self) -> daft.Schema:
        return self._schema

    async def get_tasks(self, pushdowns: Pushdowns) -> AsyncIterator[DataSourceTask]:
        yield _FrameTask(self._frame, self._schema)


_VIEW_TYPES = (pa.types.is_string_view, pa.types.is_binary_view)
_checked: dict[str, bool] = {}  # data file uri -> its footer declares view types
_checked_lock = threading.Lock()
_CHECKED_MAX = 200_000  # files remembered per process (a few MB), then forgotten at once


def view_typed(uris: Sequence[str], storage: StorageConfig) -> list[str]:
    """The files among ``uris`` whose footers declare Arrow string/binary view columns, which
    Daft cannot read (delta-rs merges write them). Footers only, read in a bounded pool and
    remembered per file: pass immutable files only (Delta data files)."""
    import pyarrow.parquet as pq

    from neuralake.tables.stats import FOOTER_THREADS

    def declares_views(uri: str) -> bool:
        fs, path = arrow_filesystem(uri, storage)
        try:
            schema = pq.read_schema(path, filesystem=fs)
        except (OSError, ValueError) as exc:
            raise StorageError(storage.redact(f"Cannot read the footer of {uri}: {exc}")) from exc
        return any(is_view(f.type) for f in schema for is_view in _VIEW_TYPES)

    with _checked_lock:
        known = {u: _checked[u] for u in uris if u in _checked}
    todo = [u for u in dict.fromkeys(uris) if u not in known]
    if todo:
        with ThreadPoolExecutor(max_workers=min(FOOTER_THREADS, len(todo))) as pool:
            found = dict(zip(todo, pool.map(declares_views, todo), strict=True))
        known.update(found)
        with _checked_lock:
            if len(_checked) + len(found) > _CHECKED_MAX:
                _checked.clear()
            _checked.update(found)
    return [u for u in uris if known[u]]


def from_polars(frame: pl.LazyFrame) -> daft.DataFrame:
    """``frame`` as a lazy Daft frame (collected by Polars, once, when the Daft frame runs)."""
    return FrameSource(frame, frame.collect_schema()).read()


def conform(df: daft.DataFrame, declared: pl.Schema | None, label: str) -> daft.DataFrame:
    """``df`` in the declared schema: declared order, safe casts, missing columns as nulls.

    Raises:
        SchemaMismatchError: A stored type cannot be cast safely to the declared one.
    """
    if declared is None:
        return df
    from neuralake.predicate.daft import daft_dtype

    source = polars_schema(df)
    check_castable(source, declared, label)
    exprs = []
    for name, dtype in declared.items():
        if name not in source:
            exprs.append(daft.lit(None).cast(daft_dtype(dtype)).alias(name))
        elif source[name] == dtype:
            exprs.append(daft.col(name))
        else:
            exprs.append(daft.col(name).cast(daft_dtype(dtype)).alias(name))
    return df.select(*exprs)
