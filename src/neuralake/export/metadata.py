"""Versioned, deterministic JSON export of a catalog's metadata.

Same catalog and same storage state give a byte-identical file: keys are in a fixed order,
tables sorted by qualified name, and no timestamps of the export itself are written. Delta
tables add their freshness (version, last commit) read from the log; a table whose storage cannot
be read is exported with an ``error`` instead of stopping the export. No credentials are
written: storage settings are never part of the metadata.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.metadata import FORMAT_VERSION

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.storage import StorageConfig
    from neuralake.tables.base import Table


def table_entry(
    catalog: Catalog, qualified: str, *, include_freshness: bool = True, history: int = 0
) -> dict[str, Any]:
    """One table's export entry: its metadata, freshness and any error reading them.

    With ``history > 0``, Delta tables also get ``history`` (the last ``history`` commits, newest
    first) and ``stats_columns`` (columns with file statistics in the log); other tables get
    ``None`` for both. Both keys are absent when ``history`` is 0 (the default export).
    """
    table = catalog.get_table(qualified)
    return entry_for(
        catalog, table.database or "", table, include_freshness=include_freshness, history=history
    )


def entry_for(
    catalog: Catalog,
    db_name: str,
    table: Table,
    *,
    include_freshness: bool = True,
    history: int = 0,
) -> dict[str, Any]:
    """:func:`table_entry` for a table object already looked up (no registry lookup)."""
    storage = table.resolve_storage()
    entry = table.metadata(storage).to_dict()
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
    if history > 0:
        entry["history"] = None
        entry["stats_columns"] = None
        if entry["error"] is None and entry["freshness"] is not None:
            entry.update(_delta_details(table, storage, history))
    return entry


def _delta_details(table: Table, storage: StorageConfig, limit: int) -> dict[str, Any]:
    """Recent commits and statistics columns of a Delta table (log only, no data scan)."""
    from neuralake.tables.delta import NeuralakeDeltaTable

    if not isinstance(table, NeuralakeDeltaTable):
        return {}
    out: dict[str, Any] = {}
    try:
        frame = table.history(limit, storage)
        out["history"] = [
            {
                "version": row["version"],
                "timestamp": None if row["timestamp"] is None else row["timestamp"].isoformat(),
                "operation": row["operation"],
                "parameters": storage.redact(_sorted_parameters(row["parameters"])),
            }
            for row in frame.iter_rows(named=True)
        ]
    except Exception:  # freshness already reported whether the log is readable
        pass
    try:
        names = pl.DataFrame(table.delta_table(storage).get_add_actions(flatten=True)).columns
        out["stats_columns"] = sorted(
            {n[4:].split(".", 1)[0] for n in names if n.startswith("min.")}
        )
    except Exception:
        pass
    return out


def _sorted_parameters(text: str | None) -> str:
    """Commit parameters with keys sorted (delta-rs returns them in hash order)."""
    if not text:
        return ""
    try:
        params = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if not isinstance(params, dict):
        return text
    return ", ".join(f"{k}: {params[k]}" for k in sorted(params, key=str))


def iter_entries(
    catalog: Catalog, *, include_freshness: bool = True, history: int = 0
) -> Iterator[tuple[str, Table, dict[str, Any]]]:
    """``(database, table object, entry)`` for every table (deprecated ones included), sorted.

    One pass over the registry, so exporting is linear in the number of tables.
    """
    for db_name, table in catalog.registry.items():
        yield (
            db_name,
            table,
            entry_for(
                catalog, db_name, table, include_freshness=include_freshness, history=history
            ),
        )


def catalog_dict(catalog: Catalog, *, include_freshness: bool = True) -> dict[str, Any]:
    """The whole export as a dict (``format_version`` first)."""
    return {
        "format_version": FORMAT_VERSION,
        "catalog": catalog.name,
        "databases": catalog.dbs,
        "tables": [e for _, _, e in iter_entries(catalog, include_freshness=include_freshness)],
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
