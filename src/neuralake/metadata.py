"""The catalog's model of a table: frozen dataclasses with deterministic ``to_dict()``.

This module knows nothing about storage or engines; table types fill these records in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


def readable_type(dtype: PolarsDataType) -> str:
    """A short, stable, human-readable name for a Polars type.

    Example:
        >>> readable_type(pl.List(pl.Struct({"a": pl.Int64, "b": pl.String})))
        'list<struct<a: int64, b: string>>'
    """
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
    return names.get(base, base.__name__.lower())


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
class TableMetadata:
    """Everything the catalog knows about a table without reading its data.

    ``columns`` is ``None`` when the schema is neither declared nor cheap to discover.
    ``location`` is what users see (describe, JSON, site), so credentials embedded in the URI
    (user-info, signed query parameters) are removed from it on construction.
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

    def __post_init__(self) -> None:
        if self.location is not None:
            object.__setattr__(self, "location", redact_uri(self.location))

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

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
            "deprecated": self.deprecated,
            "source": None if self.source is None else self.source.to_dict(),
            "extra": {k: v for k, v in sorted(self.extra)},
        }
