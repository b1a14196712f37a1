"""The ``Table`` base class every table type subclasses.

A table is declared once, in code, with its documentation; reading it returns a Polars
``LazyFrame``. Subclasses implement :meth:`Table.read` (build the lazy frame, pruning what they
can) and may override :meth:`Table.discover_schema` and :meth:`Table.freshness`; the base class
validates filters and columns, applies them (Polars pushes them into the scan), logs the read
and warns on deprecated tables.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from inspect import Parameter
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

import polars as pl

from neuralake import filters as flt
from neuralake.errors import (
    ColumnNotFoundError,
    DeprecatedTableWarning,
    SchemaMismatchError,
    did_you_mean,
)
from neuralake.metadata import (
    Column,
    Freshness,
    SourceLocation,
    TableMetadata,
    TableParameter,
    project_root,
    readable_type,
    validate_name,
    validate_qualified,
)
from neuralake.storage import StorageConfig, is_remote, resolve
from neuralake.tables.facts import (
    Commit,
    SchemaChange,
    ServingInfo,
    StoredLayout,
    TableFacts,
    TableStats,
)

if TYPE_CHECKING:
    import daft
    from polars._typing import PolarsDataType

logger = logging.getLogger("neuralake")
_CLAIM_LOCK = threading.Lock()

SchemaLike = "pl.Schema | Mapping[str, pl.DataType] | pa.Schema"


def to_polars_schema(schema: Any) -> pl.Schema:
    """Accept a ``pl.Schema``, a ``{name: dtype}`` mapping or a ``pyarrow.Schema``."""
    if isinstance(schema, pl.Schema):
        return schema
    if isinstance(schema, Mapping):
        return pl.Schema(schema)
    if hasattr(schema, "empty_table"):  # pyarrow.Schema, without importing pyarrow
        return pl.from_arrow(schema.empty_table()).schema  # type: ignore[union-attr]
    raise TypeError(f"Cannot use {schema!r} as a schema; pass a pl.Schema, dict or pyarrow.Schema.")


def caller_location(qualname: str) -> SourceLocation:
    """The first stack frame outside neuralake: where the user declared the table."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__", "").startswith("neuralake"):
        frame = frame.f_back
    if frame is None:
        return SourceLocation(module="__main__", qualname=qualname)
    return SourceLocation(
        module=frame.f_globals.get("__name__", "__main__"),
        qualname=qualname,
        file=frame.f_code.co_filename,
        line=frame.f_lineno,
    )


def describe_parameters(parameters: Mapping[str, Parameter]) -> tuple[TableParameter, ...]:
    """Documentation records for a function's table parameters (``*args``/``**kwargs`` skipped)."""
    out = []
    for name, p in parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = p.annotation
        if ann is p.empty:
            annotation = None
        else:  # postponed annotations are already source text
            annotation = ann if isinstance(ann, str) else inspect.formatannotation(ann)
        required = p.default is p.empty
        out.append(
            TableParameter(name, annotation, None if required else repr(p.default), required)
        )
    return tuple(out)


class Table(ABC):
    """A declared table: documentation plus a way to read it lazily.

    Args:
        name: Table name (letters, digits, ``_``).
        schema: Declared schema (``pl.Schema``, dict or ``pyarrow.Schema``); reads are
            normalised to it. Optional for function and Parquet tables.
        description: Markdown description.
        owner: Owning team or person.
        tags: Free-form tags for search and grouping.
        column_docs: ``{column: description}``.
        docs_filters: Example filters (a flat list, AND) used by the site's code snippets.
        docs_columns: Example column selection used by the snippets.
        unique_columns: Key columns; reads keep one row per key.
        deprecated: Deprecation message; deprecated tables are hidden from listings and warn
            when read.
        extra: Free-form metadata (``data_input``, ``latency_info``, ``example_notebook``...).
        storage: Storage settings for this table (override the catalog's).
        inputs: Upstream tables this one is computed from (``db.table``), shown as lineage
            alongside what a function table's plan reveals.
        references: ``{column: "db.table.column"}`` relationships (e.g. foreign keys), linked
            both ways on the site.
        preview: Opt in (``True``) or out (``False``) of data previews; ``None``: the default.
    """

    table_type: ClassVar[str]

    def __init__(
        self,
        name: str,
        *,
        schema: Any = None,
        description: str = "",
        owner: str | None = None,
        tags: Sequence[str] = (),
        column_docs: Mapping[str, str] | None = None,
        docs_filters: Sequence[flt.Filter] = (),
        docs_columns: Sequence[str] | None = None,
        unique_columns: Sequence[str] = (),
        deprecated: str | None = None,
        extra: Mapping[str, Any] | None = None,
        storage: StorageConfig | None = None,
        source: SourceLocation | None = None,
        inputs: Sequence[str] = (),
        references: Mapping[str, str] | None = None,
        preview: bool | None = None,
    ) -> None:
        self.name = validate_name(name)
        self.declared_schema = None if schema is None else to_polars_schema(schema)
        self.description = inspect.cleandoc(description or "")
        self.owner = owner
        self.tags = tuple(tags)
        self.column_docs = dict(column_docs or {})
        if not all(isinstance(f, flt.Filter) for f in docs_filters):
            raise TypeError(f"docs_filters of {name!r} must be a flat list of Filter (an AND).")
        self.docs_filters = tuple(docs_filters)
        self.docs_columns = None if docs_columns is None else tuple(docs_columns)
        self.unique_columns = tuple(unique_columns)
        self.deprecated = deprecated
        self.extra = dict(extra or {})
        self.storage = storage
        self.database: str | None = None
        self.catalog_storage: StorageConfig | None = None
        self._owner: object | None = None
        self.source = source or caller_location(name)
        if isinstance(inputs, str):
            raise TypeError(f"inputs of {name!r} must be a list of 'db.table' names.")
        self.inputs = tuple(dict.fromkeys(validate_qualified(i) for i in inputs))
        self.references = {
            validate_name(c, "column"): validate_qualified(r, 3)
            for c, r in (references or {}).items()
        }
        if preview is not None and not isinstance(preview, bool):
            raise TypeError(f"preview of {name!r} must be True, False or None.")
        self.preview = preview
        if self.declared_schema is not None:
            documented = [*self.column_docs, *self.unique_columns, *(self.docs_columns or ()),
                          *self.references]  # fmt: skip
            self.check_columns(documented)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.qualified_name!r})"

    def _repr_html_(self) -> str:  # notebooks: metadata and stats, escaped
        from neuralake.reprs import table_html

        return table_html(self)

    @property
    def qualified_name(self) -> str:
        """``db.table`` once bound to a database, else the bare name."""
        return f"{self.database}.{self.name}" if self.database else self.name

    def bind(self, database: str, storage: StorageConfig | None = None) -> Self:
        """A copy of this table bound to ``database`` and to a catalog's ``storage``.

        Every operation on the bound table resolves storage as the call's settings over the
        table's own, over the catalog's, over the environment, field by field.
        """
        bound = copy.copy(self)
        bound.database = database
        bound.catalog_storage = storage
        bound._owner = None
        return bound

    def claim(self, owner: object, database: str, storage: StorageConfig | None) -> Self:
        """This table bound for ``owner`` (a catalog): itself when it is not bound elsewhere
        yet (so the declared object is the catalog's), else a bound copy."""
        with _CLAIM_LOCK:
            if self._owner is None or (self._owner is owner and self.database == database):
                self._owner = owner
                self.database = database
                self.catalog_storage = storage
                return self
        bound = self.bind(database, storage)
        bound._owner = owner
        return bound

    # -- what subclasses provide ---------------------------------------------------------------

    @abstractmethod
    def read(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        **params: Any,
    ) -> pl.LazyFrame:
        """Build the lazy frame; ``filters`` and ``columns`` are hints for pruning only.

        The base class validates and applies the full filter and column selection afterwards.
        """

    def discover_schema(self, storage: StorageConfig) -> pl.Schema:
        """The schema when none is declared (subclasses read it from metadata, not data)."""
        return self.read(None, None, storage).collect_schema()

    def freshness(self, storage: StorageConfig | None = None) -> Freshness | None:
        """Version and last-change facts from the storage log, if the table type has one."""
        return self.inspect(storage).freshness

    def inspect(self, storage: StorageConfig | None = None, *, history: int = 0) -> TableFacts:
        """Facts from storage metadata: the schema when none is declared, and for tables with a
        log their freshness, the last ``history`` commits and statistics columns."""
        if self.declared_schema is not None:
            return TableFacts()
        return TableFacts(schema=self.discover_schema(self.resolve_storage(storage)))

    def layout(self, storage: StorageConfig | None = None) -> StoredLayout:
        """What storage holds (schema, partitioning), for comparison with the declaration."""
        return StoredLayout(self.discover_schema(self.resolve_storage(storage)))

    def serving(self, storage: StorageConfig | None = None) -> ServingInfo | None:
        """What an external engine needs to read the files directly (``None``: no files)."""
        return None

    def stats(self, storage: StorageConfig | None = None) -> TableStats | None:
        """Rows, files, bytes, partitions and per-column min/max/null counts, read from
        metadata (the Delta log, Parquet footers), never by scanning data.

        Returns:
            ``None`` when the table type keeps no such metadata (function tables).

        Example:
            >>> import polars as pl
            >>> from neuralake import FunctionTable
            >>> nation = FunctionTable(lambda: pl.LazyFrame({"n": [1]}), name="nation")
            >>> nation.stats() is None
            True
        """
        return None

    def schema_history(
        self, storage: StorageConfig | None = None, *, limit: int = 1000
    ) -> tuple[SchemaChange, ...]:
        """Column additions, type changes and drops over the last ``limit`` commits, oldest
        first; empty for tables without a log."""
        return ()

    def read_daft(
        self,
        filters: flt.FilterSpec,
        columns: tuple[str, ...] | None,
        storage: StorageConfig,
        **params: Any,
    ) -> daft.DataFrame | None:
        """The stored data as a lazy ``daft.DataFrame`` for ``engine="daft"``, pruned with the
        hints (``filters`` are applied afterwards by the engine, as for :meth:`read`).

        Returns:
            ``None`` when the table has no files Daft can read itself (function tables): the
            engine then runs :meth:`scan` in one Daft task.
        """
        return None

    def plan_sources(self) -> tuple[str, ...] | None:
        """Paths the table's lazy plan scans, for lineage; ``None`` when the table is not
        computed from other data (stored tables are lineage sources themselves).

        Raises whatever building the plan raises (lineage reports it as unknown).
        """
        return None

    @property
    def partitions(self) -> tuple[str, ...]:
        return ()

    @property
    def pushdown(self) -> tuple[bool, bool]:
        """Whether :meth:`read` itself fully applies ``(filters, columns)``; the base class
        then neither validates nor re-applies them. Default: neither."""
        return (False, False)

    @property
    def partitioning_scheme(self) -> str | None:
        return None

    @property
    def location(self) -> str | None:
        return None

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """Read parameters besides ``filters``/``columns``/``storage`` that are documented in
        the metadata (function arguments); none by default."""
        return {}

    # -- shared behaviour ----------------------------------------------------------------------

    def resolve_uri(self, uri: str) -> str:
        """``uri`` as the table reads it: a relative local path is joined to the project root of
        the declaring module (see :func:`neuralake.metadata.project_root`), so a catalog reads
        the same data from any working folder; absolute paths, ``file://`` and remote URIs are
        returned unchanged.

        Example:
            >>> from neuralake import ParquetTable
            >>> ParquetTable("t", "s3://bucket/t").uri
            's3://bucket/t'
        """
        if not uri or is_remote(uri) or uri.startswith("file://"):
            return uri
        if uri.startswith("~"):
            return os.path.expanduser(uri)
        if os.path.isabs(uri):
            return uri
        return os.path.normpath(project_root(self.source) / uri)

    def schema(self, storage: StorageConfig | None = None) -> pl.Schema:
        """The declared schema, or the one discovered from storage metadata."""
        if self.declared_schema is not None:
            return self.declared_schema
        return self.discover_schema(self.resolve_storage(storage))

    def resolve_storage(self, storage: StorageConfig | None = None) -> StorageConfig:
        """The call's ``storage`` over the table's, the catalog's and the environment's."""
        return resolve(storage, self.storage, self.catalog_storage)

    def check_columns(
        self, columns: Sequence[str] | None, schema: pl.Schema | None = None
    ) -> tuple[str, ...] | None:
        """Validate a column selection against the schema."""
        if columns is None:
            return None
        if isinstance(columns, str):
            columns = [columns]
        schema = schema if schema is not None else self.declared_schema
        if schema is not None:
            for c in columns:
                if c not in schema:
                    raise ColumnNotFoundError(
                        f"Table {self.qualified_name!r} has no column {c!r}.{did_you_mean(c, schema.names())} "
                        f"Columns: {', '.join(schema.names())}."
                    )
        return tuple(columns)

    def scan(
        self,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        storage: StorageConfig | None = None,
        **params: Any,
    ) -> pl.LazyFrame:
        """Read the table lazily with filters and a column selection pushed down to the scan.

        Args:
            filters: ``Filter``/list (AND)/list of lists (OR of ANDs), a ``pl.Expr``, a SQL
                predicate string or a predicate from :func:`neuralake.predicate.bind`.
            columns: Columns to return, in order.
            storage: Storage settings overriding the table's (bound) storage, field by field.
            **params: Table-specific parameters (e.g. ``version=`` for Delta tables).

        Returns:
            A ``pl.LazyFrame``; nothing has been read yet.
        """
        start = time.perf_counter()
        label = self.qualified_name
        if self.deprecated:
            warnings.warn(
                f"Table {label!r} is deprecated: {self.deprecated}",
                DeprecatedTableWarning,
                stacklevel=3,
            )
        from neuralake.predicate import AlwaysTrue, Predicate, ToPolars, bind

        own_filters, own_columns = self.pushdown
        pred: Predicate | None = None
        if not own_filters and self.declared_schema is not None:
            # Bound once, before any I/O: read() gets the bound predicate (Parquet prunes
            # partitions with it) and the same object filters the frame below.
            pred = bind(filters, self.declared_schema, table=label)
        elif not isinstance(filters, str | pl.Expr | Predicate):
            flt.to_dnf(filters)  # type: ignore[arg-type]  # reject malformed shapes before I/O
        cols = (
            tuple(columns) if own_columns and columns is not None else self.check_columns(columns)
        )
        lf = self.read(
            filters if pred is None else pred, cols, self.resolve_storage(storage), **params
        )
        if not (own_filters and own_columns):
            schema = self.declared_schema
            if schema is None:
                schema = lf.collect_schema()
            if not own_columns:
                cols = self.check_columns(cols, schema)
            if not own_filters:
                if pred is None:  # no declared schema: bind to the frame's
                    pred = bind(filters, schema, table=label)
                if not isinstance(pred, AlwaysTrue):
                    lf = lf.filter(pred.accept(ToPolars()))
            if cols is not None and not own_columns:
                lf = lf.select(cols)
        planning_ms = (time.perf_counter() - start) * 1000
        logger.info(
            "read %s filters=%s columns=%s planning_ms=%.2f",
            label, flt.describe(filters), ",".join(cols) if cols else "*", planning_ms,
            extra={"table": label, "planning_ms": planning_ms},
        )  # fmt: skip
        return lf

    def __call__(
        self, filters: flt.FilterSpec = None, columns: Sequence[str] | None = None, **params: Any
    ) -> pl.LazyFrame:
        """Shorthand for :meth:`scan`."""
        return self.scan(filters, columns, **params)

    def metadata(
        self,
        storage: StorageConfig | None = None,
        *,
        schema: pl.Schema | None = None,
        discover: bool = True,
    ) -> TableMetadata:
        """Describe the table. The schema is read from storage metadata only if not declared.

        Args:
            storage: Storage settings overriding the table's.
            schema: A stored schema already read (e.g. by :meth:`inspect`), used when none is
                declared instead of reading it again.
            discover: Read an undeclared schema from storage (``False``: no columns then).
        """
        if self.declared_schema is not None:
            schema = self.declared_schema
        elif schema is None and discover:
            try:
                schema = self.schema(storage)
            except Exception:  # undiscoverable schema: describe the table without columns
                schema = None
        columns = None
        if schema is not None:
            columns = tuple(
                Column(
                    name, readable_type(dtype), self.column_docs.get(name), name in self.partitions
                )
                for name, dtype in schema.items()
            )
        return TableMetadata(
            name=self.name,
            database=self.database or "",
            type=self.table_type,
            description=self.description,
            owner=self.owner,
            tags=self.tags,
            columns=columns,
            partitions=self.partitions,
            partitioning_scheme=self.partitioning_scheme,
            location=self.location,
            unique_columns=self.unique_columns,
            docs_filters=self.docs_filters,
            docs_columns=self.docs_columns,
            deprecated=self.deprecated,
            source=self.source,
            extra=tuple(sorted(self.extra.items())),
            parameters=describe_parameters(self.parameters),
            inputs=self.inputs,
            references=tuple(sorted(self.references.items())),
            preview=self.preview,
        )


@runtime_checkable
class Versioned(Protocol):
    """A table with a commit log: history, time travel and maintenance (Delta tables).

    Surfaces outside ``tables/`` test for this protocol, never for a concrete class.
    """

    def commits(
        self, limit: int | None = None, *, storage: StorageConfig | None = None
    ) -> tuple[Commit, ...]: ...

    def history(
        self, limit: int | None = None, *, storage: StorageConfig | None = None
    ) -> pl.DataFrame: ...

    def restore(self, version: int | str | Any, *, storage: StorageConfig | None = None) -> Any: ...

    def vacuum(
        self,
        retention_hours: int | None = None,
        *,
        dry_run: bool = True,
        enforce_retention: bool = True,
        full: bool = True,
        storage: StorageConfig | None = None,
    ) -> list[str]: ...

    def optimize(
        self,
        z_order: Sequence[str] | None = None,
        target_size: int | None = None,
        *,
        storage: StorageConfig | None = None,
    ) -> Any: ...


def normalize(lf: pl.LazyFrame, source: pl.Schema, declared: pl.Schema) -> pl.LazyFrame:
    """Conform ``lf`` (with schema ``source``) to ``declared``: order, casts, missing as nulls.

    Columns whose type already matches are passed through untouched so predicates on them are
    still pushed into the scan.
    """
    exprs = []
    for name, dtype in declared.items():
        if name not in source:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif source[name] != dtype:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.col(name))
    return lf.select(exprs)


def check_castable(source: pl.Schema, declared: pl.Schema, table: str) -> None:
    """Raise ``SchemaMismatchError`` listing every stored column that cannot become its declared type."""
    problems = [
        f"{name}: stored {readable_type(source[name])}, declared {readable_type(dtype)}"
        for name, dtype in declared.items()
        if name in source and source[name] != dtype and not castable(source[name], dtype)
    ]
    if problems:
        raise SchemaMismatchError(
            f"Table {table!r}: stored data cannot be cast to the declared schema ("
            + "; ".join(problems)
            + "). Fix the declared schema or rewrite the data."
        )


def castable(src: PolarsDataType, dst: PolarsDataType) -> bool:
    """Lossless-in-practice casts the catalog applies silently when reading."""
    if src == dst or isinstance(src, pl.Null):
        return True
    if src.is_numeric() and dst.is_numeric():
        return not (src.is_float() and dst.is_integer())
    if isinstance(dst, pl.String | pl.Categorical | pl.Enum):
        return isinstance(src, pl.String | pl.Categorical | pl.Enum)
    if isinstance(src, pl.Date) and isinstance(dst, pl.Datetime):
        return True
    if isinstance(src, pl.Datetime) and isinstance(dst, pl.Datetime):
        return True
    if isinstance(src, pl.List) and isinstance(dst, pl.List):
        return castable(src.inner, dst.inner)
    if isinstance(src, pl.Struct) and isinstance(dst, pl.Struct):
        have = {f.name: f.dtype for f in src.fields}
        return all(f.name not in have or castable(have[f.name], f.dtype) for f in dst.fields)
    return False
