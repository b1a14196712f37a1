"""Versioned, deterministic JSON export of a catalog's metadata.

Same catalog and same storage state give a byte-identical file: keys are in a fixed order,
tables sorted by qualified name, and no timestamps of the export itself are written. Delta
tables add their freshness (version, last commit) read from the log; a table whose storage cannot
be read is exported with an ``error`` instead of stopping the export. No credentials are
written: storage settings are never part of the metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.export.entry import TableEntry
from neuralake.lineage import catalog_lineage
from neuralake.metadata import FORMAT_VERSION

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.tables.base import Table


def table_entry(
    catalog: Catalog, qualified: str, *, include_freshness: bool = True, history: int = 0
) -> TableEntry:
    """The export entry of one table (see :meth:`TableEntry.of`)."""
    return TableEntry.of(
        catalog.get_table(qualified), include_freshness=include_freshness, history=history
    )


def iter_entries(
    catalog: Catalog, *, include_freshness: bool = True, history: int = 0
) -> Iterator[tuple[Table, TableEntry]]:
    """``(bound table, entry)`` for every table (deprecated ones included), sorted.

    One pass over the registry, so exporting is linear in the number of tables. A table whose
    metadata itself raises (a custom table type) still gets an entry carrying the error.
    """
    for table in catalog.tables():
        try:
            entry = TableEntry.of(table, include_freshness=include_freshness, history=history)
        except Exception as exc:
            entry = TableEntry.broken(table, f"{type(exc).__name__}: {exc}")
        yield table, entry


def catalog_dict(catalog: Catalog, *, include_freshness: bool = True) -> dict[str, Any]:
    """The whole export as a dict (``format_version`` first)."""
    lineage = catalog_lineage(catalog)
    return {
        "format_version": FORMAT_VERSION,
        "catalog": catalog.name,
        "databases": catalog.dbs,
        "tables": [
            replace(e, lineage=lineage.get(e.qualified_name)).to_dict()
            for _, e in iter_entries(catalog, include_freshness=include_freshness)
        ],
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def export_catalog(
    catalog: Catalog, path: str | Path | None = None, *, include_freshness: bool = True
) -> dict[str, Any]:
    """Build the export and, if ``path`` is given, write it atomically."""
    data = catalog_dict(catalog, include_freshness=include_freshness)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(dumps(data), encoding="utf-8")
        tmp.replace(target)
    return data
