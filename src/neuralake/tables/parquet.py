"""Partitioned Parquet datasets in a local folder or on S3."""

from __future__ import annotations

import datetime as dt
import itertools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import polars as pl

from neuralake import filters as flt
from neuralake.errors import InvalidFilterError, InvalidParameterError, StorageError
from neuralake.storage import (
    StorageConfig,
    arrow_filesystem,
    is_remote,
    list_files,
    storage_options,
)
from neuralake.tables.base import Table
from neuralake.tables.facts import ServingInfo, StoredLayout

# Characters Polars' hive writer leaves as they are; everything else is percent-encoded.
_POLARS_SAFE = "".join(c for c in string.printable if c not in " %/:=\t\n\r\x0b\x0c")
_CAST = pl.ScanCastOptions(integer_cast="upcast", float_cast="upcast", datetime_cast="upcast")


@dataclass(frozen=True)
class Partition:
    """A partition column: its name and Polars type, in directory-nesting order."""

    name: str
    dtype: Any = pl.String


class ParquetTable(Table):
    """A Parquet dataset partitioned by folders, read with partition pruning.

    Equality and ``in`` filters on the leading partition columns become listing prefixes (one
    per value, each ending in a separator so ``12`` never matches ``123``); every other filter
    is applied by Polars on top of the scan (row-group statistics included).

    Args:
        name: Table name.
        uri: Root folder: a local path or ``s3://bucket/prefix/``.
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
        self.uri = uri.rstrip("/")
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

    def _data_files(self, storage: StorageConfig) -> list[tuple[str, int]]:
        """``(relative path, bytes)`` of the data files: hidden and ``_`` sidecars skipped."""
        try:
            listed = list_files(self.uri, storage)
        except StorageError as exc:
            raise StorageError(f"Table {self.qualified_name!r}: {exc}") from exc
        return [
            (path, size)
            for path, size in listed
            if path.endswith(".parquet")
            and not any(part.startswith(("_", ".")) for part in path.split("/"))
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
        prefixes = self._prefixes(pred, storage)
        if prefixes is not None:  # a pinned value with no folder has no rows, it is not an error
            prefixes = [
                (path, pinned)
                for path, pinned in prefixes
                if self._exists(path, storage, folder=True)
            ]
        if not prefixes:  # an existing pinned folder proves the table exists; else check the root
            self._check_exists(self.uri, storage)
        if prefixes is None:
            lf = self._scan_prefix(self.uri, {}, opts)
        elif not prefixes:
            lf = self._scan_prefix(self.uri, {}, opts).head(0)  # e.g. `in []`: valid, no rows
        else:
            lf = pl.concat(
                [self._scan_prefix(path, pinned, opts) for path, pinned in prefixes],
                how="diagonal_relaxed",
            )
        order = list(self.declared_schema) if self.declared_schema is not None else None
        if order is None:
            names = lf.collect_schema().names()
            order = [n for n in names if n not in self.partitions] + list(self.partitions)
        lf = lf.select(order)
        if self.unique_columns:
            lf = lf.unique(self.unique_columns, keep="last", maintain_order=True)
        return lf

    def _scan_prefix(
        self, path: str, pinned: dict[str, Any], opts: dict[str, str] | None
    ) -> pl.LazyFrame:
        rest = [p for p in self.partitioning if p.name not in pinned]
        declared = self.declared_schema
        file_schema = (
            None
            if declared is None
            else {n: t for n, t in declared.items() if n not in self.partitions}
        )
        hive = self.scheme == "hive"
        lf = pl.scan_parquet(
            path + "/",
            hive_partitioning=hive and bool(rest),
            hive_schema={p.name: p.dtype for p in rest} if hive and rest else None,
            schema=file_schema,
            missing_columns="insert" if declared is not None else "raise",
            extra_columns="ignore" if declared is not None else "raise",
            cast_options=_CAST if declared is not None else None,
            include_file_paths="__neuralake_path" if rest and not hive else None,
            storage_options=opts,
            glob=False,  # a folder, never a pattern: values may contain '?', '*' or '['
        )
        dtypes = {p.name: p.dtype for p in self.partitioning}
        extra = [pl.lit(v, dtype=dtypes[n]).alias(n) for n, v in pinned.items()]
        if rest and not hive:  # directory scheme: values are the path segments below `path`
            depth = path.rstrip("/").count("/") + 1
            segments = pl.col("__neuralake_path").str.split("/")
            extra += [
                segments.list.get(depth + i).cast(p.dtype).alias(p.name) for i, p in enumerate(rest)
            ]
        lf = lf.with_columns(extra) if extra else lf
        return lf.drop("__neuralake_path", strict=False)

    def _prefixes(
        self, pred: flt.BoundFilter, storage: StorageConfig
    ) -> list[tuple[str, dict[str, Any]]] | None:
        """Folders to scan with the partition values they pin; ``None`` means the whole table."""
        from neuralake.predicate import PinnedPartitions, Pins

        if not self.partitioning:
            return None
        pins: Pins | None = pred.accept(PinnedPartitions(self.partitions))
        if pins is None:
            return None
        dtypes = {p.name: p.dtype for p in self.partitioning}
        found: dict[str, dict[str, Any]] = {}
        for branch in pins:
            pinned_lists: list[tuple[str, tuple[Any, ...]]] = []
            for name, values in branch:
                if not all(_has_folder_name(v, dtypes[name]) for v in values):
                    break  # a value whose folder spelling is not certain: scan below here
                pinned_lists.append((name, values))
            if not pinned_lists:
                return None  # one branch needs every partition
            names = [n for n, _ in pinned_lists]
            for combo in itertools.product(*(vals for _, vals in pinned_lists)):
                path = self.uri
                for name, value in zip(names, combo, strict=True):
                    path = self._child(path, name, value, storage)
                found.setdefault(path, dict(zip(names, combo, strict=True)))
        # A shallower prefix already covers deeper ones below it.
        keep = sorted(found, key=len)
        result: list[str] = []
        for path in keep:
            if not any(path.startswith(parent + "/") for parent in result):
                result.append(path)
        return [(p, found[p]) for p in sorted(result)]

    def _child(self, parent: str, name: str, value: Any, storage: StorageConfig) -> str:
        text = _format_value(value, name, self.name)
        if self.scheme == "directory":
            if "/" in text or text in ("", ".", ".."):
                raise InvalidFilterError(
                    f"Partition value {value!r} for {name!r} cannot be a folder name."
                )
            return f"{parent}/{text}"
        polars_style = f"{parent}/{name}={quote(text, safe=_POLARS_SAFE)}"
        uri_style = f"{parent}/{name}={quote(text, safe='')}"
        if polars_style == uri_style or self._exists(polars_style, storage, folder=True):
            return polars_style
        return uri_style  # PyArrow / Spark writers percent-encode more characters

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


def _has_folder_name(value: Any, dtype: Any) -> bool:
    """True if ``value`` has exactly one folder spelling in a partition of type ``dtype``.

    Other values (``12.0`` for an integer partition, datetimes, floats) are not used for pruning;
    the filter still applies to the scan, so results are the same, only less is skipped.
    """
    if isinstance(value, bool):
        return bool(dtype == pl.Boolean)
    if isinstance(value, int):
        return bool(dtype.is_integer())
    if isinstance(value, str):
        return bool(dtype == pl.String)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return bool(dtype == pl.Date)
    return False


def _format_value(value: Any, column: str, table: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise InvalidFilterError(
        f"Cannot use {value!r} as a value of partition {column!r} of table {table!r}."
    )
