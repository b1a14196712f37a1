"""Versioned, deterministic JSON export of a catalog's metadata.

Same catalog and same storage state give a byte-identical file: keys are in a fixed order,
tables sorted by qualified name, and no timestamps of the export itself are written. Delta
tables add their freshness (version, last commit) read from the log; a table whose storage cannot
be read is exported with an ``error`` instead of stopping the export. No credentials are
written: storage settings are never part of the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralake.metadata import FORMAT_VERSION

if TYPE_CHECKING:
    from neuralake.catalog import Catalog


def table_entry(
    catalog: Catalog, qualified: str, *, include_freshness: bool = True
) -> dict[str, Any]:
    """One table's export entry: its metadata, freshness and any error reading them."""
    db_name, table = catalog.resolve(qualified)
    storage = table.resolve_storage(catalog=catalog.storage)
    entry = table.metadata(db_name, storage).to_dict()
    entry["freshness"] = None
    entry["error"] = None
    if include_freshness:
        try:
            fresh = table.freshness(storage)
            entry["freshness"] = None if fresh is None else fresh.to_dict()
        except Exception as exc:  # one broken table must not stop the export
            entry["error"] = storage.redact(f"{type(exc).__name__}: {exc}")
    if entry["columns"] is None and entry["error"] is None:
        try:
            table.schema(storage)
        except Exception as exc:
            entry["error"] = storage.redact(f"{type(exc).__name__}: {exc}")
    return entry


def catalog_dict(catalog: Catalog, *, include_freshness: bool = True) -> dict[str, Any]:
    """The whole export as a dict (``format_version`` first)."""
    names = catalog.list_tables(include_deprecated=True)
    return {
        "format_version": FORMAT_VERSION,
        "catalog": catalog.name,
        "databases": catalog.dbs,
        "tables": [table_entry(catalog, q, include_freshness=include_freshness) for q in names],
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
