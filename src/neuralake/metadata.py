"""The catalog's model of a table: frozen dataclasses with deterministic ``to_dict()``.

This module knows nothing about storage or engines; table types fill these records in.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

from neuralake.errors import InvalidNameError
from neuralake.filters import Filter
from neuralake.storage import redact_uri

#: Version of the ``to_dict()`` / JSON export layout; bumped on any incompatible change.
FORMAT_VERSION = 1

# Matched with fullmatch: "$" would also match before a trailing newline ("evil\n").
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def validate_name(name: object, kind: str = "table") -> str:
    """Return ``name`` if it is a valid table/database name, else raise ``InvalidNameError``.

    Names start with a letter or ``_`` and contain only letters, digits and ``_``: no path
    separators, dots, ``..``, spaces or control characters, so a name is always safe as a file
    name, a URL segment and a SQL identifier.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidNameError(
            f"Invalid {kind} name {name!r}: use letters, digits and '_', starting with a letter "
            "or '_' (no dots, dashes, slashes, spaces or control characters)."
        )
    return name


def validate_qualified(name: object, parts: int = 2) -> str:
    """Return ``name`` if it is ``db.table`` (``parts=2``) or ``db.table.column`` (``parts=3``)
    with every part a valid name (see :func:`validate_name`), else raise ``InvalidNameError``.

    Example:
        >>> validate_qualified("tpch.orders.o_orderkey", 3)
        'tpch.orders.o_orderkey'
    """
    shape = "db.table" if parts == 2 else "db.table.column"
    pieces = name.split(".") if isinstance(name, str) else []
    if len(pieces) != parts or not all(_NAME.fullmatch(p) for p in pieces):
        raise InvalidNameError(
            f"Invalid qualified name {name!r}: expected {shape!r}, each part letters, digits "
            "and '_', starting with a letter or '_'."
        )
    return str(name)


def readable_type(dtype: PolarsDataType) -> str:
    """A short, stable, human-readable name for a Polars type.

    Example:
        >>> readable_type(pl.List(pl.Struct({"a": pl.Int64, "b": pl.String})))
        'list<struct<a: int64, b: string>>'
    """
    plain = _PLAIN.get(type(dtype))
    if plain is not None:
        return plain
    try:
        return _readable(dtype)
    except TypeError:  # an unhashable type object
        return _readable.__wrapped__(dtype)


# Names of types without parameters, by class: found before hashing a type object (Polars
# hashes and compares them in Python), which the cache below would do for every column.
_PLAIN: dict[type, str] = {}


@lru_cache(maxsize=4096)  # a catalog repeats a few types across thousands of columns
def _readable(dtype: PolarsDataType) -> str:
    if isinstance(dtype, pl.List):
        return f"list<{readable_type(dtype.inner)}>"
    if isinstance(dtype, pl.Array):
        return f"array<{readable_type(dtype.inner)}, {dtype.size}>"
    if isinstance(dtype, pl.Struct):
        return (
            "struct<" + ", ".join(f"{f.name}: {readable_type(f.dtype)}" for f in dtype.fields) + ">"
        )
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        tz = f", {dtype.time_zone}" if dtype.time_zone else ""
        return f"datetime[{dtype.time_unit}{tz}]"
    if isinstance(dtype, pl.Duration):
        return f"duration[{dtype.time_unit}]"
    base = dtype.base_type()
    names: dict[Any, str] = {pl.String: "string", pl.Boolean: "bool"}
    name = names.get(base, base.__name__.lower())
    if type(dtype) is base:  # an instance: its name depends on its class alone
        _PLAIN[base] = name
    return name


@dataclass(frozen=True)
class Column:
    """One column of a table's (declared) schema."""

    name: str
    type: str
    description: str | None = None
    partition: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "description": self.description,
                "partition": self.partition}  # fmt: skip


@dataclass(frozen=True)
class SourceLocation:
    """Where a table is defined in code."""

    module: str
    qualname: str
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "qualname": self.qualname,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class TableParameter:
    """One parameter a table's read takes besides ``filters``/``columns`` (function arguments).

    ``annotation`` and ``default`` are source text (``repr`` of the default), so the record is
    JSON-safe and deterministic whatever the values are.
    """

    name: str
    annotation: str | None = None
    default: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "annotation": self.annotation, "default": self.default,
                "required": self.required}  # fmt: skip


def find_project_root(start: str | Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``pyproject.toml`` (else ``None``)."""
    here = Path(start).absolute()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def project_root(source: SourceLocation | None) -> Path:
    """The folder relative table locations declared at ``source`` are resolved against.

    The nearest folder above the declaring file that holds a ``pyproject.toml``; else the folder
    the declaring module's top-level package sits in (its ``sys.path`` entry); else the current
    folder (interactive sessions, notebooks, ``python -c``).

    Example:
        >>> project_root(None) == Path.cwd()
        True
    """
    file = Path(source.file) if source is not None and source.file else None
    if source is None or file is None or not file.is_file():
        return Path.cwd()
    found = find_project_root(file.parent)
    if found is not None:
        return found
    if source.module == "__main__" or source.module not in sys.modules:
        return Path.cwd()  # a script or notebook cell outside any project
    # a.b.c -> .../a/b/c.py and a.b -> .../a/b/__init__.py: climb to the folder holding ``a``.
    folder = file.parent
    for _ in range(source.module.count(".") + (file.stem == "__init__")):
        folder = folder.parent
    return folder


@dataclass(frozen=True)
class Freshness:
    """What a Delta log says about the table's current version (read from the log, no data scan)."""

    version: int
    timestamp: str | None
    operation: str | None
    num_files: int
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "timestamp": self.timestamp, "operation": self.operation,
                "num_files": self.num_files, "size_bytes": self.size_bytes}  # fmt: skip


@dataclass(frozen=True)
class Lineage:
    """Where a table's rows come from and which tables read it (qualified ``db.table`` names).

    Attributes:
        upstream: Declared and inferred inputs, sorted.
        declared: The ``inputs=`` of the declaration, as given.
        inferred: Catalog tables found in the table's lazy plan (function tables), sorted.
        external: Scanned paths that are no catalog table's location, sorted (redacted).
        downstream: Tables whose upstream includes this one, sorted.
        unknown: Why the plan could not be inspected (``None`` when it could or there is none).
    """

    upstream: tuple[str, ...] = ()
    declared: tuple[str, ...] = ()
    inferred: tuple[str, ...] = ()
    external: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    unknown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"upstream": list(self.upstream), "declared": list(self.declared),
                "inferred": list(self.inferred), "external": list(self.external),
                "downstream": list(self.downstream), "unknown": self.unknown}  # fmt: skip


@dataclass(frozen=True)
class TableMetadata:
    """Everything the catalog knows about a table without reading its data.

    ``columns`` is ``None`` when the schema is neither declared nor cheap to discover.
    ``location`` is what users see (describe, JSON, site), so credentials embedded in the URI
    (user-info, signed query parameters) are removed from it on construction; a local location
    is the absolute path the table reads (relative ``uri=`` are resolved against the project
    root, see :func:`project_root`). ``parameters`` are the read parameters a function table
    takes besides ``filters``/``columns``. ``inputs`` are declared upstream tables
    (``db.table``), ``references`` declared ``(column, "db.table.column")`` relationships
    (sorted by column) and ``preview`` the table's opt-in (``True``), opt-out (``False``) or
    default (``None``) for data previews.
    """

    name: str
    database: str
    type: str
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    columns: tuple[Column, ...] | None = None
    partitions: tuple[str, ...] = ()
    partitioning_scheme: str | None = None
    location: str | None = None
    unique_columns: tuple[str, ...] = ()
    docs_filters: tuple[Filter, ...] = ()
    docs_columns: tuple[str, ...] | None = None
    deprecated: str | None = None
    source: SourceLocation | None = None
    extra: tuple[tuple[str, Any], ...] = field(default=())
    parameters: tuple[TableParameter, ...] = ()
    inputs: tuple[str, ...] = ()
    references: tuple[tuple[str, str], ...] = ()
    preview: bool | None = None

    def __post_init__(self) -> None:
        if self.location is not None:
            object.__setattr__(self, "location", redact_uri(self.location))

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    def _repr_html_(self) -> str:  # notebooks: the facts the site page shows, escaped
        from neuralake.reprs import metadata_html

        return metadata_html(self)

    def to_dict(self) -> dict[str, Any]:
        """Deterministic, JSON-serialisable form (keys in a fixed order)."""
        return {
            "name": self.name,
            "database": self.database,
            "qualified_name": self.qualified_name,
            "type": self.type,
            "description": self.description,
            "owner": self.owner,
            "tags": list(self.tags),
            "columns": None if self.columns is None else [c.to_dict() for c in self.columns],
            "partitions": list(self.partitions),
            "partitioning_scheme": self.partitioning_scheme,
            "location": self.location,
            "unique_columns": list(self.unique_columns),
            "docs_filters": [f.to_dict() for f in self.docs_filters],
            "docs_columns": None if self.docs_columns is None else list(self.docs_columns),
            "parameters": [p.to_dict() for p in self.parameters],
            "inputs": list(self.inputs),
            "references": {k: v for k, v in sorted(self.references)},
            "preview": self.preview,
            "deprecated": self.deprecated,
            "source": None if self.source is None else self.source.to_dict(),
            "extra": {k: v for k, v in sorted(self.extra)},
        }
