"""Catalogs: databases of declared tables, found by name and read as LazyFrames."""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, overload

import polars as pl

from neuralake import filters as flt
from neuralake.errors import (
    AmbiguousTableError,
    CatalogLoadError,
    DatabaseNotFoundError,
    DuplicateTableError,
    InvalidParameterError,
    SQLNotAllowedError,
    TableNotFoundError,
    did_you_mean,
)
from neuralake.metadata import TableMetadata, find_project_root, validate_name
from neuralake.storage import StorageConfig
from neuralake.tables.base import Table

if TYPE_CHECKING:
    import daft

    from neuralake.contracts import ContractIssue

Engine = Literal["polars", "daft"]
ENGINES: tuple[Engine, ...] = ("polars", "daft")


def check_engine(engine: str) -> None:
    """Raise :class:`InvalidParameterError` unless ``engine`` is one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise InvalidParameterError(f"Unknown engine {engine!r}; use one of: {', '.join(ENGINES)}.")


@dataclass
class _ReadStats:
    """Bounded per-table read metrics: a count and running sums, never a list per read."""

    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0


class CatalogRegistry:
    """Thread-safe index of tables by database and name.

    Registering the same qualified name again from the same definition site (module and
    qualname) replaces the table, so reloading a module is safe; from a different site it
    raises :class:`DuplicateTableError` naming both.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tables: dict[str, dict[str, Table]] = {}

    def register(
        self, table: Table, database: str, bind: Callable[[Table], Table] | None = None
    ) -> Table:
        """Add ``table`` to ``database``; ``bind`` (if given) turns it into the object stored,
        and runs only once the name is known to be free for it."""
        validate_name(database, "database")
        validate_name(table.name)  # the name may have been changed after construction
        with self._lock:
            tables = self._tables.setdefault(database, {})
            existing = tables.get(table.name)
            if existing is not None and existing is not table and _site(existing) != _site(table):
                raise DuplicateTableError(
                    f"Table '{database}.{table.name}' is already defined at {_where(existing)}; "
                    f"cannot define it again at {_where(table)}. Rename one of them, or put one in "
                    "another database: @table(database=...), register_static_table(..., "
                    "database=...) or another key of Catalog({...})."
                )
            if bind is not None:
                table = bind(table)
            tables[table.name] = table
        return table

    def add_database(self, database: str) -> None:
        """Create an empty database (no-op if it exists)."""
        validate_name(database, "database")
        with self._lock:
            self._tables.setdefault(database, {})

    def unregister(self, database: str, name: str) -> None:
        with self._lock:
            self._tables.get(database, {}).pop(name, None)

    def databases(self) -> list[str]:
        with self._lock:
            return sorted(self._tables)

    def tables(self, database: str) -> dict[str, Table]:
        """A snapshot of one database's tables."""
        with self._lock:
            if database not in self._tables:
                raise DatabaseNotFoundError(
                    f"No database {database!r}.{did_you_mean(database, self._tables)} "
                    f"Databases: {', '.join(sorted(self._tables)) or 'none'}."
                )
            return dict(self._tables[database])

    def items(self) -> list[tuple[str, Table]]:
        """Every ``(database, table)`` pair, sorted by qualified name."""
        with self._lock:
            return sorted(
                ((db, t) for db, ts in self._tables.items() for t in ts.values()),
                key=lambda p: (p[0], p[1].name),
            )


def _site(table: Table) -> tuple[str, str]:
    return (table.source.module, table.source.qualname)


def _where(table: Table) -> str:
    src = table.source
    line = f" ({src.file}:{src.line})" if src.file else ""
    return f"{src.module}.{src.qualname}{line}"


class Database:
    """A named group of tables.

    Args:
        tables: Table objects, as an iterable or a ``{name: table}`` mapping.
    """

    def __init__(self, tables: Iterable[Table] | Mapping[str, Table] = ()) -> None:
        items = tables.values() if isinstance(tables, Mapping) else tables
        self.tables: dict[str, Table] = {t.name: t for t in items}


class ModuleDatabase(Database):
    """Every table object defined at the top level of a module.

    Args:
        module: A module object or its dotted import path.

    Example:
        >>> db = ModuleDatabase("examples.tpch.tables")  # doctest: +SKIP
    """

    def __init__(self, module: ModuleType | str) -> None:
        if isinstance(module, str):
            try:
                module = importlib.import_module(module)
            except ImportError as exc:
                raise CatalogLoadError(f"Cannot import module {module!r}: {exc}") from exc
        self.module = module
        super().__init__(v for v in vars(module).values() if isinstance(v, Table))


class DatabaseHandle:
    """One database of a catalog: ``catalog.db("tpch").table("part", filters=...)``."""

    def __init__(self, catalog: Catalog, name: str) -> None:
        self.catalog = catalog
        self.name = name

    def __repr__(self) -> str:
        return f"DatabaseHandle({self.catalog.name!r}, {self.name!r})"

    @overload
    def table(
        self,
        name: str,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        engine: Literal["polars"] = "polars",
        **params: Any,
    ) -> pl.LazyFrame: ...
    @overload
    def table(
        self,
        name: str,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        engine: Literal["daft"],
        **params: Any,
    ) -> daft.DataFrame: ...
    def table(
        self,
        name: str,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        engine: Engine = "polars",
        **params: Any,
    ) -> pl.LazyFrame | daft.DataFrame:
        """Read ``name`` from this database; see :meth:`Catalog.table`."""
        qualified = f"{self.name}.{name}"
        if engine == "daft":
            return self.catalog.table(qualified, filters, columns, engine="daft", **params)
        return self.catalog.table(qualified, filters, columns, engine=engine, **params)

    def get_table(self, name: str) -> Table:
        """The table ``name`` of this database, bound; see :meth:`Catalog.get_table`."""
        return self.catalog.get_table(f"{self.name}.{name}")

    def list_tables(self, include_deprecated: bool = False) -> list[str]:
        return [q.split(".", 1)[1] for q in self.catalog.list_tables(self.name, include_deprecated)]


class Catalog:
    """Databases of declared tables, read as Polars LazyFrames.

    Args:
        dbs: ``{database name: Database}``.
        name: The catalog's name (shown in exports and the site).
        storage: Storage settings for every table, below per-table and per-call settings.

    Example:
        >>> import polars as pl
        >>> from neuralake import FunctionTable, Filter
        >>> t = FunctionTable(lambda: pl.LazyFrame({"x": [1, 2, 3]}), name="numbers")
        >>> cat = Catalog({"demo": Database([t])}, name="doc")
        >>> cat.list_tables()
        ['demo.numbers']
        >>> cat.table("numbers", filters=[Filter("x", ">=", 2)]).collect()["x"].to_list()
        [2, 3]
    """

    def __init__(
        self,
        dbs: Mapping[str, Database] | None = None,
        *,
        name: str = "catalog",
        storage: StorageConfig | None = None,
    ) -> None:
        self.name = name
        self._storage = storage
        self.registry = CatalogRegistry()
        self._metrics_lock = threading.Lock()
        self._reads: dict[str, _ReadStats] = {}
        for db_name, db in (dbs or {}).items():
            self.registry.add_database(db_name)
            for t in db.tables.values():
                self.register(t, db_name)

    def __repr__(self) -> str:
        return f"Catalog(name={self.name!r}, databases={self.dbs!r})"

    def __str__(self) -> str:
        from neuralake.reprs import catalog_text

        return catalog_text(self)

    def _repr_html_(self) -> str:
        """Notebook display: databases, table counts and a table list (text escaped)."""
        from neuralake.reprs import catalog_html

        return catalog_html(self)

    @property
    def storage(self) -> StorageConfig | None:
        """The catalog's storage settings (below each table's and each call's)."""
        return self._storage

    @property
    def dbs(self) -> list[str]:
        """Database names, sorted."""
        return self.registry.databases()

    def register(self, table: Table, database: str = "default") -> Table:
        """Add a table object to ``database`` (created if new), bound to this catalog.

        The object itself is bound the first time; a table already bound elsewhere is
        registered as a bound copy (see :meth:`Table.claim`).
        """
        return self.registry.register(
            table, database, lambda t: t.claim(self, database, self._storage)
        )

    def db(self, name: str) -> DatabaseHandle:
        """One database, for ``.table(...)`` reads with bare table names."""
        self.registry.tables(name)  # raises DatabaseNotFoundError with suggestions
        return DatabaseHandle(self, name)

    def _find(self, name: str) -> tuple[str, Table]:
        """Find ``db.table`` (or a bare name that only one database has), unbound."""
        if "." in name:
            db_name, _, table_name = name.partition(".")
            tables = self.registry.tables(db_name)
            if table_name not in tables:
                raise TableNotFoundError(
                    f"No table {table_name!r} in database {db_name!r}."
                    f"{did_you_mean(table_name, tables)} Run `neuralake tables` to list tables."
                )
            return db_name, tables[table_name]
        hits = [(db, t) for db, t in self.registry.items() if t.name == name]
        if len(hits) == 1:
            return hits[0]
        if hits:
            options = ", ".join(f"{db}.{name}" for db, _ in hits)
            raise AmbiguousTableError(
                f"Table name {name!r} is in several databases; use one of: {options}."
            )
        known = [f"{db}.{t.name}" for db, t in self.registry.items()]
        close = did_you_mean(name, [*known, *(t.name for _, t in self.registry.items())])
        raise TableNotFoundError(
            f"No table {name!r} in catalog {self.name!r}.{close} Run `neuralake tables` to list tables."
        )

    def get_table(self, name: str) -> Table:
        """The table ``db.table`` (or a bare name only one database has), bound to its
        qualified name and to its storage resolved over the catalog's.

        Every operation on the returned table (reads, writes, merges, history, maintenance,
        metadata) uses that storage; a call's own ``storage=`` wins field by field.

        Example:
            >>> import polars as pl
            >>> from neuralake import FunctionTable
            >>> t = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="one")
            >>> Catalog({"demo": Database([t])}).get_table("one").qualified_name
            'demo.one'
        """
        return self._find(name)[1]

    def tables(self, include_deprecated: bool = True) -> list[Table]:
        """Every table, bound, sorted by qualified name (one pass over the registry)."""
        return [t for _, t in self.registry.items() if include_deprecated or not t.deprecated]

    @overload
    def table(
        self,
        name: str,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        storage: StorageConfig | None = None,
        engine: Literal["polars"] = "polars",
        **params: Any,
    ) -> pl.LazyFrame: ...
    @overload
    def table(
        self,
        name: str,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        storage: StorageConfig | None = None,
        engine: Literal["daft"],
        **params: Any,
    ) -> daft.DataFrame: ...
    def table(
        self,
        name: str,
        filters: flt.FilterSpec = None,
        columns: Sequence[str] | None = None,
        *,
        storage: StorageConfig | None = None,
        engine: Engine = "polars",
        **params: Any,
    ) -> pl.LazyFrame | daft.DataFrame:
        """Read a table lazily.

        Args:
            name: ``db.table``, or a bare table name that only one database has.
            filters: ``Filter`` / list (AND) / list of lists (OR of ANDs) / ``pl.Expr`` / SQL
                predicate string; pushed down to the scan.
            columns: Columns to return.
            storage: Storage settings overriding the table's and the catalog's.
            engine: ``"polars"`` (a ``pl.LazyFrame``) or ``"daft"`` (a ``daft.DataFrame``,
                run locally or on Ray; see :mod:`neuralake.query.daft`): the same rows.
            **params: Table parameters (``version=``/``as_of=`` for Delta, function arguments).

        Returns:
            A ``pl.LazyFrame`` (or ``daft.DataFrame``); nothing has been read yet.
        """
        start = time.perf_counter()
        t = self.get_table(name)
        frame: pl.LazyFrame | daft.DataFrame
        if engine == "daft":
            from neuralake.query.daft import scan

            frame = scan(t, filters, columns, storage=storage, **params)
        else:
            check_engine(engine)
            frame = t.scan(filters, columns, storage=storage, **params)
        self._record(t.qualified_name, (time.perf_counter() - start) * 1000)
        return frame

    def _record(self, table: str, ms: float) -> None:
        with self._metrics_lock:
            stats = self._reads.setdefault(table, _ReadStats())
            stats.count += 1
            stats.total_ms += ms
            stats.max_ms = max(stats.max_ms, ms)

    def list_tables(
        self, database: str | None = None, include_deprecated: bool = False
    ) -> list[str]:
        """Qualified names ``db.table``, sorted; deprecated tables only when asked."""
        dbs = [database] if database else self.dbs
        return [
            f"{db}.{name}"
            for db in dbs
            for name, t in sorted(self.registry.tables(db).items())
            if include_deprecated or not t.deprecated
        ]

    def describe_table(self, name: str) -> TableMetadata:
        """Metadata of one table (schema from the declaration, or from storage metadata)."""
        return self.get_table(name).metadata()

    def export_metadata(
        self, path: str | Path | None = None, *, include_freshness: bool = True
    ) -> dict[str, Any]:
        """Write the versioned, deterministic JSON export (see :mod:`neuralake.export.metadata`)."""
        from neuralake.export.metadata import export_catalog

        return export_catalog(self, path, include_freshness=include_freshness)

    @overload
    def sql(
        self, query: str, *, allow_files: bool = False, engine: Literal["polars"] = "polars"
    ) -> pl.LazyFrame: ...
    @overload
    def sql(
        self, query: str, *, allow_files: bool = False, engine: Literal["daft"]
    ) -> daft.DataFrame: ...
    def sql(
        self, query: str, *, allow_files: bool = False, engine: Engine = "polars"
    ) -> pl.LazyFrame | daft.DataFrame:
        """Run one SQL query over the catalog's tables (named ``db.table``), lazily.

        The query runs in a sandbox (see :mod:`neuralake.query.sandbox`): before any engine
        sees it, sqlglot checks that it is exactly one ``SELECT``/``WITH``/``UNION`` query
        that reads only catalog tables and calls only allow-listed scalar, aggregate and window
        functions. Statements (``COPY``, DDL, DML, ``SET``, ``ATTACH``...), several statements,
        table functions and file or URL reads (``read_csv(...)``, ``FROM 'file.csv'``) are
        refused. Polars plans the SQL regenerated from the checked tree; only the tables the
        query names are opened, through the same lazy read path as :meth:`table`.

        Args:
            query: The SQL query.
            allow_files: Also allow the ``read_*``/``scan_*`` file table functions, which read
                any file or URL this process can. An explicit opt-in for local Python and the
                CLI (``neuralake query --allow-files``); never pass it for queries from others.
                Not available with ``engine="daft"``.
            engine: ``"polars"`` (a LazyFrame) or ``"daft"`` (a ``daft.DataFrame`` planned by
                Daft's SQL engine over the same tables, under the same sandbox).

        Returns:
            A LazyFrame; nothing is read until it is collected.

        Raises:
            SQLNotAllowedError: The sandbox refuses the query (the message says what and why).
            SQLError: The query does not parse or cannot be planned (e.g. an unknown column).
            TableNotFoundError: It names a table the catalog does not have.

        Example:
            >>> import polars as pl
            >>> from neuralake import Catalog, Database, FunctionTable
            >>> nation = FunctionTable(lambda: pl.LazyFrame({"n": [1, 2, 3]}), name="nation")
            >>> catalog = Catalog({"tpch": Database([nation])})
            >>> catalog.sql("SELECT SUM(n) AS total FROM tpch.nation").collect()["total"][0]
            6
        """
        if engine == "daft":
            from neuralake.query import daft as daft_engine

            if allow_files:
                raise SQLNotAllowedError(
                    "allow_files is not available with engine='daft'; read files with "
                    "engine='polars', or declare them as catalog tables."
                )
            return daft_engine.run_sql(self, query)
        check_engine(engine)
        from neuralake.query.sql import run_sql

        return run_sql(self, query, allow_files=allow_files)

    def validate(self, tables: Sequence[str] | None = None) -> list[ContractIssue]:
        """Compare every table's declared schema and partitioning with storage (metadata only).

        Returns:
            The issues found (empty when storage matches the declarations); see
            :mod:`neuralake.contracts` and ``neuralake check``.
        """
        from neuralake.contracts import check_catalog

        return check_catalog(self, tables)

    def metrics(self) -> dict[str, Any]:
        """Table count and per-table read counts and planning latencies (milliseconds)."""
        with self._metrics_lock:
            reads = {
                name: {
                    "count": s.count,
                    "mean_ms": round(s.total_ms / s.count, 3),
                    "max_ms": round(s.max_ms, 3),
                    "total_ms": round(s.total_ms, 3),
                }
                for name, s in sorted(self._reads.items())
            }
        return {"tables": len(self.registry.items()), "reads": reads}


class _DefaultCatalog(Catalog):
    """The process-wide catalog; ``default.<name>`` still finds a table by its bare name,
    from when every ``@table`` went to database ``default``."""

    def _find(self, name: str) -> tuple[str, Table]:
        db_name, dot, bare = name.partition(".")
        if dot and db_name == DEFAULT_DATABASE and bare not in self._default_names():
            return super()._find(bare)
        return super()._find(name)

    def _default_names(self) -> set[str]:
        try:
            return set(self.registry.tables(DEFAULT_DATABASE))
        except DatabaseNotFoundError:
            return set()


DEFAULT_DATABASE = "default"

default_catalog: Catalog = _DefaultCatalog(name="default")
"""The process-wide catalog that ``@table`` and ``register_static_table`` register into."""


def module_database(module: str) -> str:
    """The database ``@table`` and ``register_static_table`` use when none is given.

    The declaring module's dotted name with every character a name cannot hold turned into
    ``_``, so two modules that both define ``fx_rates`` never collide; scripts and notebooks
    (``__main__``) use ``default``.

    Example:
        >>> module_database("sales.fx")
        'sales_fx'
        >>> module_database("__main__")
        'default'
    """
    if not module or module == "__main__":
        return DEFAULT_DATABASE
    name = re.sub(r"[^A-Za-z0-9_]", "_", module)
    return f"_{name}" if name[0].isdigit() else name


def register_static_table(table: Table, database: str | None = None) -> Table:
    """Register a table object in :data:`default_catalog` and return it.

    Args:
        table: The table object.
        database: Its database; by default the declaring module's (see :func:`module_database`).
    """
    return default_catalog.register(table, database or module_database(table.source.module))


def export_catalog_metadata(path: str | Path | None = None) -> dict[str, Any]:
    """Export :data:`default_catalog` (as :meth:`Catalog.export_metadata` does)."""
    return default_catalog.export_metadata(path)


_SYS_PATH_LOCK = threading.Lock()


def project_root_for(reference: str | None = None, start: Path | None = None) -> Path | None:
    """The project a catalog is loaded from, walking up from ``start`` (the working folder).

    The nearest folder whose ``pyproject.toml`` names ``reference`` in ``[tool.neuralake]
    catalog``, else the nearest folder holding a ``pyproject.toml``; ``None`` outside any project.
    """
    nearest = find_project_root(start or Path.cwd())
    folder = nearest
    while folder is not None and reference is not None:
        try:
            with (folder / "pyproject.toml").open("rb") as fh:
                named = tomllib.load(fh).get("tool", {}).get("neuralake", {}).get("catalog")
        except (OSError, tomllib.TOMLDecodeError):
            named = None
        if named == reference:
            return folder
        folder = find_project_root(folder.parent) if folder.parent != folder else None
    return nearest


def importable(folder: Path) -> None:
    """Put ``folder`` first on ``sys.path`` (once), so packages in it import without install."""
    entry = str(folder)
    with _SYS_PATH_LOCK:
        if entry not in sys.path:
            sys.path.insert(0, entry)


def load_catalog(reference: str) -> Catalog:
    """Import a catalog from ``package.module:attribute``.

    The project root (see :func:`project_root_for`) is made importable first, so the same
    reference loads from any folder inside the project; outside it, the package must be
    installed or on ``PYTHONPATH``.

    Example:
        >>> catalog = load_catalog("examples.tpch.catalog:catalog")  # doctest: +SKIP
    """
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise CatalogLoadError(
            f"Catalog reference {reference!r} must look like 'package.module:attribute'."
        )
    root = project_root_for(reference)
    if root is not None:
        importable(root)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CatalogLoadError(
            f"Cannot import {module_name!r} for catalog {reference!r}: {exc}"
        ) from exc
    try:
        obj = getattr(module, attr)
    except AttributeError as exc:
        raise CatalogLoadError(f"Module {module_name!r} has no attribute {attr!r}.") from exc
    if not isinstance(obj, Catalog):
        raise CatalogLoadError(f"{reference!r} is a {type(obj).__name__}, not a neuralake Catalog.")
    return obj
