"""Table lineage: declared ``inputs`` plus what function tables' lazy plans scan.

A function table is called once without filters, columns or parameters and its unoptimised
plan is read for file scans (see :meth:`neuralake.tables.base.Table.plan_sources`); a scanned
path under a catalog table's location makes that table an input. Nothing is collected. A plan
that cannot be built (the function raises or needs parameters) leaves the lineage ``unknown``
with the reason, and never raises.

Example:
    >>> import polars as pl
    >>> from neuralake import Catalog, Database, FunctionTable
    >>> a = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="a")
    >>> b = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="b", inputs=["shop.a"])
    >>> lineage = catalog_lineage(Catalog({"shop": Database([a, b])}))
    >>> lineage["shop.a"].downstream
    ('shop.b',)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from neuralake.metadata import Lineage
from neuralake.storage import redact_uri

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.tables.base import Table

__all__ = ["Lineage", "catalog_lineage", "table_lineage", "upstream_of"]


def _normal(path: str) -> str:
    """A location or scanned path in one comparable form (no ``file://``, no trailing ``/``)."""
    if path.startswith("file://"):
        path = path[len("file://") :]
    if "://" in path:
        return path.rstrip("/")
    return os.path.normpath(path)


def _locations(tables: Iterable[Table]) -> dict[str, str]:
    """``{normalised location: qualified name}`` of every table that has a location."""
    found: dict[str, str] = {}
    for t in tables:
        try:
            loc = t.location
        except Exception:  # a custom table whose location fails is just not matched
            continue
        if loc:
            found.setdefault(_normal(loc), t.qualified_name)
    return found


def _match(path: str, locations: Mapping[str, str]) -> str | None:
    """The table whose location is ``path`` or the closest folder above it."""
    path = _normal(path)
    while True:
        if path in locations:
            return locations[path]
        parent = path.rsplit("/", 1)[0]
        if parent == path or not parent or parent.endswith(":/"):
            return None
        path = parent


def upstream_of(table: Table, locations: Mapping[str, str]) -> Lineage:
    """One table's lineage without downstream: ``locations`` maps normalised locations to
    qualified names (see :func:`catalog_lineage`)."""
    declared = tuple(getattr(table, "inputs", ()))
    inferred: set[str] = set()
    external: set[str] = set()
    unknown = None
    try:
        paths = table.plan_sources()
    except Exception as exc:  # lineage is informative: never break an export or a build
        paths = None
        reason = f"{type(exc).__name__}: {exc}"
        try:
            reason = table.resolve_storage().redact(reason)
        except Exception:  # storage itself unresolvable: the generic redaction still applies
            reason = redact_uri(reason)
        unknown = reason
    for path in paths or ():
        name = _match(path, locations)
        if name is None:
            external.add(redact_uri(path))
        elif name != table.qualified_name:
            inferred.add(name)
    return Lineage(
        upstream=tuple(sorted({*declared, *inferred})),
        declared=declared,
        inferred=tuple(sorted(inferred)),
        external=tuple(sorted(external)),
        unknown=unknown,
    )


def catalog_lineage(catalog: Catalog) -> dict[str, Lineage]:
    """Lineage of every table of ``catalog`` (deprecated ones included), by qualified name,
    with downstream as the inverse of upstream over the whole catalog."""
    tables = list(catalog.tables())
    locations = _locations(tables)
    found = {t.qualified_name: upstream_of(t, locations) for t in tables}
    down: dict[str, set[str]] = {}
    for name, lin in found.items():
        for up in lin.upstream:
            down.setdefault(up, set()).add(name)
    return {
        name: replace(lin, downstream=tuple(sorted(down.get(name, ()))))
        for name, lin in sorted(found.items())
    }


def table_lineage(catalog: Catalog, qualified: str) -> Lineage:
    """The lineage of one table of ``catalog`` (its downstream needs the whole catalog).

    Raises:
        TableNotFoundError: ``qualified`` is not a table of the catalog.
    """
    name = catalog.get_table(qualified).qualified_name
    return catalog_lineage(catalog)[name]
