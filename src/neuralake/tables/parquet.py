"""Partitioned Parquet datasets in a local folder or on S3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from neuralake import filters as flt
from neuralake.errors import (
    InvalidParameterError,
    SchemaMismatchError,
    StorageError,
    UnsupportedFeatureError,
)
from neuralake.storage import (
    StorageConfig,
    arrow_filesystem,
    is_remote,
    list_files,
    storage_options,
)
from neuralake.tables import hive, spark_footer
from neuralake.tables.base import Table
from neuralake.tables.facts import ServingInfo, StoredLayout, TableStats

if TYPE_CHECKING:
    import daft

_PATH = "__neuralake_path"
_CAST = pl.ScanCastOptions(integer_cast="upcast", float_cast="upcast", datetime_cast="upcast")


@dataclass(frozen=True)
class Partition:
    """A partition column: its name and Polars type, in directory-nesting order."""

    name: str
    dtype: Any = pl.String


class ParquetTable(Table):
    """A Parquet dataset partitioned by folders, read with partition pruning.

    Equality and ``in`` filters on the leading partition columns select the partition folders
    whose decoded value equals a pinned value (see :mod:`neuralake.tables.hive`); only the data
    files below them are scanned (sidecars such as ``_SUCCESS`` and ``.crc`` never are). Every
    other filter is applied by Polars on top of the scan (row-group statistics included).

    Args:
        name: Table name.
        uri: Root folder: a local path or ``s3://bucket/prefix/``;
            a relative local path is resolved against the project root (see
            :meth:`~neuralake.tables.base.Table.resolve_uri`).
        partitioning: Partition columns in nesting order.
        partitioning_scheme: ``"hive"`` (``col=value/`` folders) or ``"directory"``
            (``value/`` folders).
        **kwargs: Documentation and schema arguments of :class:`~neuralake.tables.base.Table`.

    Example:
        >>> part = ParquetTable("part", "lake/tpch/part", partitioning=[Partition("p_brand")])
        >>> part.partitions
        ('p_brand',)
    """

    table_type = "parquet"

    def __init__(
        self,
        name: str,
        uri: str,
        *,
        partitioning: Sequence[Partition] = (),
        partitioning_scheme: Literal["hive", "directory"] = "hive",
        **kwargs: Any,
    ) -> None:
        super().__init__(name, **kwargs)
        if partitioning_scheme not in ("hive", "directory"):
            raise ValueError(
                f"partitioning_scheme must be 'hive' or 'directory', got {partitioning_scheme!r}."
            )
        self.uri = self.resolve_uri(uri.rstrip("/"))  # relative: from the project root
        self.partitioning = tuple(partitioning)
        self.scheme = partitioning_scheme
        if self.declared_schema is not None:
            self.declared_schema = pl.Schema(
                {
                    **self.declared_schema,
                    **{
                        p.name: p.dtype
                        for p in self.partitioning
                        if p.name not in self.declared_schema
                    },
                }
            )

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.partitioning)

    @property
    def partitioning_scheme(self) -> str | None:
        return self.scheme if self.partitioning else None

    @property
    def location(self) -> str | None:
        return self.uri

    def layout(self, storage: StorageConfig | None = None) -> StoredLayout:
        """The schema of one data file's footer and the partition folders above it.

        For the ``directory`` scheme only the folders' depth is known, so the declared names
        are reported when the depth matches.
        """
        cfg = self.resolve_storage(storage)
        files = self._data_files(cfg)
        if not files:
            raise StorageError(
                f"Table {self.qualified_name!r}: no Parquet files under {self.uri}. "
                "Check the table's uri, or write the data first."
            )
        first = files[0][0]
        folders = first.split("/")[:-1]
        if self.scheme == "hive":
            parts = tuple(f.split("=", 1)[0] for f in folders if "=" in f)
        else:
            parts = self.partitions if len(folders) == len(self.partitions) else tuple(folders)
        return StoredLayout(self._footer_schema(f"{self.uri}/{first}", cfg), parts, self.partitions)

    def serving(self, storage: StorageConfig | None = None) -> ServingInfo:
        """The data files, partition columns and the columns stored inside the files."""
        cfg = self.resolve_storage(storage)
        files = self._data_files(cfg)
        columns = None
        if files:
            columns = tuple(self._footer_schema(f"{self.uri}/{files[0][0]}", cfg).names())
        return ServingInfo(
            format="parquet",
            uri=self.uri,
            partitions=tuple((p.name, p.dtype) for p in self.partitioning),
            partitioning_scheme=self.partitioning_scheme,
            files=tuple(files),
            file_columns=columns,
        )

    def stats(self, storage: StorageConfig | None = None) -> TableStats:
        """Rows, files, bytes, partitions and column profiles, from the data files' footers
        (read in parallel, no data page) and the partition folder names.

        Example:
            >>> import tempfile, polars as pl
            >>> root = tempfile.mkdtemp()
            >>> pl.DataFrame({"id": [1, 2, None], "day": ["mon", "mon", "tue"]}).write_parquet(
            ...     root + "/", partition_by=["day"])
            >>> t = ParquetTable("events", root, partitioning=[Partition("day")])
            >>> s = t.stats()
            >>> s.rows, s.files, s.partitions
            (3, 2, 2)
            >>> [(c.name, c.min, c.max, c.null_count) for c in s.columns]
            [('id', 1, 2, 1), ('day', 'mon', 'tue', 0)]
        """
        from neuralake.tables import stats as st

        cfg = self.resolve_storage(storage)
        listed = self._data_files(cfg)
        values = [self._folder_values(rel) for rel, _ in listed]
        footers = st.read_footers([(f"{self.uri}/{rel}", size) for rel, size in listed], cfg)
        prof = st.Profiler()
        rows = st.fold_footers(footers, prof)
        for i, p in enumerate(self.partitioning):
            for footer, vals in zip(footers, values, strict=True):
                value = vals[i]
                nulls = footer.rows if value is None else 0
                prof.add(p.name, value, value, nulls, footer.rows, "partition folders")
        order = list(self.declared_schema) if self.declared_schema is not None else None
        return TableStats(
            rows=rows,
            files=len(listed),
            bytes=sum(size for _, size in listed),
            partitions=len(set(values)) if self.partitioning else None,
            source=st.PARQUET_FOOTERS,
            columns=prof.profiles(rows, order),
        )

    def _folder_values(self, rel: str) -> tuple[Any, ...]:
        """The decoded partition values in a data file's folder names."""
        segments = rel.split("/")
        if len(segments) != len(self.partitioning) + 1:
            raise SchemaMismatchError(
                f"Table {self.qualified_name!r}: data file {self.uri}/{rel} is not "
                f"{len(self.partitioning)} partition folder(s) below the root. "
                "Check the table's partitioning."
            )
        return tuple(
            hive.parse_folder(seg, p.name, p.dtype, self.scheme, self.qualified_name)
            for seg, p in zip(segments, self.partitioning, strict=False)
        )

    def _data_files(self, storage: StorageConfig, folder: str = "") -> list[tuple[str, int]]:
        """``(path relative to ``folder``, bytes)`` of the data files below it (the root by
        default): the one listing reads, serving and layout share, sidecars skipped."""
        path = f"{self.uri}/{folder}" if folder else self.uri
        try:
            listed = list_files(path, storage)
        except StorageError as exc:
            raise StorageError(
                f"Cannot reach storage for table {self.qualified_name!r}: {exc}"
            ) from exc
        above = folder.split("/") if folder else []
        return [
            (rel, size)
            for rel, size in listed
            if not any(map(hive.is_sidecar, above + rel.split("/")))
        ]

    def _footer_schema(self, path: str, storage: StorageConfig) -> pl.Schema:
        """The schema in one file's footer (no data pages are read)."""
        lf = pl.scan_parquet(
            path, hive_partitioning=False, storage_options=storage_options(path, storage)
        )
        try:
            return lf.collect_schema()
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise StorageError(
                storage.redact(
                    f"Table {self.qualified_name!r}: cannot read the footer of {path}: {exc}"
                )
            ) from exc

    def read(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        **params: Any,
    ) -> pl.LazyFrame:
        if params:
            raise InvalidParameterError(
                f"Parquet table {self.name!r} takes no parameters, got {sorted(params)}."
            )
        from neuralake.predicate import bind

        # scan() passes the predicate it bound, which bind() returns as it is; without a
        # declared schema this binding only prunes and scan() validates against the frame.
        pred = bind(filters, self.declared_schema, table=self.qualified_name)  # before listing
        opts = storage_options(self.uri, storage)
        folders = self._folders(pred, storage)
        scans = [s for s in (self._files(f, storage) for f in folders) if s]
        if not scans:  # a pinned value with no folder has no rows, it is not an error
            lf = self._empty(storage, opts)
        else:
            lf = pl.concat([self._scan(files, storage) for files in scans], how="diagonal_relaxed")
        order = list(self.declared_schema) if self.declared_schema is not None else None
        if order is None:
            names = lf.collect_schema().names()
            order = [n for n in names if n not in self.partitions] + list(self.partitions)
        lf = lf.select(order)
        if self.unique_columns:
            lf = lf.unique(self.unique_columns, keep="last", maintain_order=True)
        return lf

    def _folders(self, pred: flt.BoundFilter, storage: StorageConfig) -> list[str]:
        """Folders below the root to read (``""`` is the whole table), from the pinned values."""
        from neuralake.predicate import PinnedPartitions, Pins

        if not self.partitioning:
            return [""]
        pins: Pins | None = pred.accept(PinnedPartitions(self.partitions))
        if pins is None:
            return [""]
        return hive.prune(
            pins,
            {p.name: p.dtype for p in self.partitioning},
            self.scheme,
            lambda folder: self._children(folder, storage),
            self.qualified_name,
        )

    def _children(self, folder: str, storage: StorageConfig) -> list[str]:
        """Sub-folder names of ``folder``: one delimiter LIST on S3."""
        import pyarrow.fs as pafs

        path = f"{self.uri}/{folder}" if folder else self.uri
        fs, inner = arrow_filesystem(path, storage)
        try:
            infos = fs.get_file_info(pafs.FileSelector(inner, allow_not_found=True))
        except OSError as exc:
            raise StorageError(
                storage.redact(f"Cannot list {path} for table {self.qualified_name!r}: {exc}")
            ) from exc
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    def _files(self, folder: str, storage: StorageConfig) -> list[tuple[str, tuple[Any, ...]]]:
        """``(file uri, partition values)`` of the data files below ``folder``, sidecars skipped."""
        path = f"{self.uri}/{folder}" if folder else self.uri
        above = folder.split("/") if folder else []
        result = []
        for rel, _ in self._data_files(storage, folder):
            segments = above + rel.split("/")
            if len(segments) != len(self.partitioning) + 1:
                raise SchemaMismatchError(
                    f"Table {self.qualified_name!r}: data file {path}/{rel} is not "
                    f"{len(self.partitioning)} partition folder(s) below the root. "
                    "Check the table's partitioning."
                )
            values = tuple(
                hive.parse_folder(seg, p.name, p.dtype, self.scheme, self.qualified_name)
                for seg, p in zip(segments, self.partitioning, strict=False)
            )
            result.append((f"{path}/{rel}", values))
        return result

    def _scan(
        self, files: list[tuple[str, tuple[Any, ...]]], storage: StorageConfig
    ) -> pl.LazyFrame:
        """One lazy scan of explicit data files; partition columns come from their folders."""
        declared = self.declared_schema
        file_schema = (
            None
            if declared is None
            else {n: t for n, t in declared.items() if n not in self.partitions}
        )
        sources = [uri for uri, _ in files]
        facts = self._writer_facts(sources[0], file_schema, storage)
        if facts.int96:
            lf = _scan_int96(sources, storage, file_schema, with_paths=bool(self.partitioning))
        else:
            lf = pl.scan_parquet(
                sources,
                hive_partitioning=False,
                schema=file_schema,
                missing_columns="insert" if declared is not None else "raise",
                extra_columns="ignore" if declared is not None else "raise",
                cast_options=_CAST if declared is not None else None,
                include_file_paths=_PATH if self.partitioning else None,
                storage_options=storage_options(self.uri, storage),
                glob=False,  # values may contain '?', '*' or '['
            )
        if facts.julian or facts.zoned:
            lf = spark_footer.rebase(lf, facts, self.qualified_name, sources[0])
        extra = []
        for i, p in enumerate(self.partitioning):
            values = [v for _, v in files]
            column = pl.Series(p.name, [v[i] for v in values], dtype=p.dtype)
            if column.n_unique() == 1:
                extra.append(pl.lit(column[0], dtype=p.dtype).alias(p.name))
            else:
                extra.append(
                    pl.col(_PATH)
                    .replace_strict(sources, column, return_dtype=p.dtype)
                    .alias(p.name)
                )
        lf = lf.with_columns(extra) if extra else lf
        return lf.drop(_PATH, strict=False)

    def _writer_facts(
        self, first: str, file_schema: Mapping[str, Any] | None, storage: StorageConfig
    ) -> spark_footer.FooterFacts:
        """How the dataset's writer stored datetimes (INT96, legacy calendar), from the first
        file's footer; a declaration without datetimes needs no footer read."""
        if file_schema is None or any(
            isinstance(t, (pl.Datetime, pl.Date)) for t in file_schema.values()
        ):
            return spark_footer.footer_facts(first, storage, self.qualified_name)
        return spark_footer.FooterFacts()

    def read_daft(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        **params: Any,
    ) -> daft.DataFrame:
        """The pruned data files as a Daft frame (the same folder pruning as :meth:`read`)."""
        from neuralake.predicate import bind
        from neuralake.tables import daft as daft_source

        label = self.qualified_name
        if params:
            raise InvalidParameterError(
                f"Parquet table {self.name!r} takes no parameters, got {sorted(params)}."
            )
        if self.unique_columns:
            raise UnsupportedFeatureError(
                f"Table {label!r} declares unique_columns: its reads keep the last row per key "
                "in file order, which the Daft engine does not keep. Read it with "
                "engine='polars'."
            )
        pred = bind(filters, self.declared_schema, table=label)
        files = [f for folder in self._folders(pred, storage) for f in self._files(folder, storage)]
        partitions = pl.Schema({p.name: p.dtype for p in self.partitioning})
        if not files:  # no rows, but a missing root is an error, as in read()
            schema = self._empty(storage, None).collect_schema()
        elif self.declared_schema is not None:
            schema = self.declared_schema
        else:
            schema = self._footer_schema(files[0][0], storage)
        # Partition values come from the folders, as in read(), even where files hold them.
        file_schema = pl.Schema({n: t for n, t in schema.items() if n not in partitions})
        facts = (
            self._writer_facts(files[0][0], file_schema, storage)
            if files
            else spark_footer.FooterFacts()
        )
        if facts.julian or facts.zoned:
            raise UnsupportedFeatureError(
                f"Table {label!r} holds dates or timestamps in Spark's legacy calendar, which "
                "the Daft engine does not rebase. Read it with engine='polars'."
            )
        if facts.int96 and self.declared_schema is None:
            # Polars' footer schema says nanoseconds, which cannot hold INT96's 0001..9999
            # range: read in the types of the Polars path (microseconds).
            file_schema = pl.Schema(
                {n: t for n, t in self.schema(storage).items() if n not in partitions}
            )
        source = daft_source.FilesSource(
            files, file_schema, partitions, storage, int96=bool(facts.int96)
        )
        return daft_source.conform(source.read(), self.declared_schema, label)

    def _empty(self, storage: StorageConfig, opts: dict[str, str] | None) -> pl.LazyFrame:
        """No rows, with the table's columns (from the declared schema or one footer)."""
        self._check_exists(self.uri, storage)
        if self.declared_schema is not None:
            return pl.LazyFrame(schema=self.declared_schema)
        files = self._data_files(storage)
        if not files:
            raise StorageError(
                f"Table {self.qualified_name!r}: no Parquet files under {self.uri}. "
                "Check the table's uri, or write the data first."
            )
        schema = self._footer_schema(f"{self.uri}/{files[0][0]}", storage)
        schema = pl.Schema(
            {
                **{n: t for n, t in schema.items() if n not in self.partitions},
                **{p.name: p.dtype for p in self.partitioning},
            }
        )
        return pl.LazyFrame(schema=schema)

    def _exists(self, path: str, storage: StorageConfig, *, folder: bool = False) -> bool:
        """Whether ``path`` exists; ``folder=True`` asks whether anything is below it.

        On S3 a plain lookup costs two requests (HEAD, then LIST); a partition folder is
        checked with a single LIST instead, which keeps pruned reads close to a direct scan.
        """
        import pyarrow.fs as pafs

        fs, inner = arrow_filesystem(path, storage)
        try:
            if folder and is_remote(path):
                return bool(fs.get_file_info(pafs.FileSelector(inner, allow_not_found=True)))
            return bool(fs.get_file_info(inner).type != pafs.FileType.NotFound)
        except OSError as exc:
            raise StorageError(
                storage.redact(
                    f"Cannot reach storage for table {self.qualified_name!r} at {path}: {exc}"
                )
            ) from exc

    def _check_exists(self, path: str, storage: StorageConfig) -> None:
        if not self._exists(path, storage):
            where = "bucket/prefix" if is_remote(path) else "folder"
            raise StorageError(
                f"Table {self.qualified_name!r}: no data at {path} ({where} does not exist). "
                "Check the table's uri, or write the data first."
            )


def _scan_int96(
    sources: list[str],
    storage: StorageConfig,
    file_schema: dict[str, Any] | None,
    *,
    with_paths: bool,
) -> pl.LazyFrame:
    """Files with INT96 timestamps, read by pyarrow in microseconds: Polars decodes INT96 to
    nanoseconds, which silently clamps dates outside 1677-2262 (``9999-12-31`` and ``0001-01-01``
    are common in Spark data)."""
    import pyarrow.dataset as pads

    fmt = pads.ParquetFileFormat(
        read_options=pads.ParquetReadOptions(coerce_int96_timestamp_unit="us")
    )
    frames = []
    for uri in sources:
        fs, path = arrow_filesystem(uri, storage)
        lf = pl.scan_pyarrow_dataset(pads.dataset(path, format=fmt, filesystem=fs))
        if file_schema is not None:
            names = lf.collect_schema().names()
            lf = lf.select(
                pl.col(n).cast(t) if n in names else pl.lit(None, dtype=t).alias(n)
                for n, t in file_schema.items()
            )
        frames.append(lf.with_columns(pl.lit(uri).alias(_PATH)) if with_paths else lf)
    return pl.concat(frames, how="diagonal_relaxed")
