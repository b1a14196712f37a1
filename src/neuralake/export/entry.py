"""One table's export entry: its metadata, the facts its storage reports, and any error.

The JSON export, the site and the PR diff all start from :class:`TableEntry`; it becomes a dict
only when written (:meth:`TableEntry.to_dict`). A table whose storage cannot be read still gets
an entry, carrying the (redacted) error instead of stopping the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neuralake.metadata import Lineage, TableMetadata
from neuralake.tables.facts import SchemaChange, TableFacts, TableStats

if TYPE_CHECKING:
    from neuralake.storage import StorageConfig
    from neuralake.tables.base import Table


@dataclass(frozen=True)
class TableEntry:
    """Everything the catalog exports about one table.

    Attributes:
        metadata: The declaration (schema declared or read from storage metadata).
        facts: What storage metadata says (freshness, recent commits, statistics columns).
        error: Why the table's storage could not be read (``None`` when it could).
        stats: Rows, files, bytes and column profiles from metadata; ``None`` when not asked
            for; when unknown, a record with only a ``note`` saying why.
        schema_history: Column changes from the log, oldest first (read with ``history``).
        lineage: Upstream and downstream tables (needs the whole catalog, so it is set by the
            catalog export, see :func:`neuralake.lineage.catalog_lineage`); ``None``: not
            computed.
    """

    metadata: TableMetadata
    facts: TableFacts = field(default_factory=TableFacts)
    error: str | None = None
    stats: TableStats | None = None
    schema_history: tuple[SchemaChange, ...] = ()
    lineage: Lineage | None = None

    @classmethod
    def of(cls, table: Table, *, include_freshness: bool = True, history: int = 0) -> TableEntry:
        """Describe a bound table, opening its storage metadata once (no data scan).

        Args:
            table: A table bound to its database (``catalog.get_table`` / ``catalog.tables``).
            include_freshness: Read the log (version, last commit, files, bytes).
            history: Also read the last ``history`` commits and the statistics columns.
        """
        storage = table.resolve_storage()
        facts, error = TableFacts(), None
        try:
            if include_freshness or history > 0:
                facts = table.inspect(storage, history=history)
            elif table.declared_schema is None:
                facts = TableFacts(schema=table.schema(storage))
        except Exception as exc:  # one broken table must not stop the export
            error = storage.redact(f"{type(exc).__name__}: {exc}")
        metadata = table.metadata(storage, schema=facts.schema) if error is None else None
        if metadata is None:
            metadata = cls._declared(table)
        stats: TableStats | None = None
        changes: tuple[SchemaChange, ...] = ()
        if include_freshness and error is None:
            stats = cls._stats(table, storage)
        if history > 0 and error is None:
            try:
                changes = table.schema_history(storage)
            except Exception:  # the page still shows everything else; stats say what failed
                changes = ()
        return cls(metadata, facts, error, stats, changes)

    @staticmethod
    def _stats(table: Table, storage: StorageConfig) -> TableStats:
        """The table's stats, or an unknown record saying why (never raises)."""
        try:
            found = table.stats(storage)
        except Exception as exc:  # unreadable stats must not break the export
            return TableStats(note=storage.redact(f"unknown: {type(exc).__name__}: {exc}"))
        if found is None:
            return TableStats(note=f"unknown: {getattr(table, 'table_type', 'custom')} table")
        return found

    @classmethod
    def broken(cls, table: Table, error: str) -> TableEntry:
        """An entry for a table whose metadata itself could not be built (``error`` is
        redacted here, as :meth:`of` redacts its own)."""
        error = table.resolve_storage().redact(error)
        return cls(cls._declared(table, describe=False), TableFacts(), error)

    @staticmethod
    def _declared(table: Table, *, describe: bool = True) -> TableMetadata:
        """The declaration alone, touching no storage (columns only if declared)."""
        if describe:
            try:
                return table.metadata(discover=False)
            except Exception:  # a custom table type whose metadata() fails: minimal entry
                pass
        return TableMetadata(
            name=table.name,
            database=table.database or "",
            type=getattr(table, "table_type", "unknown"),
            source=getattr(table, "source", None),
        )

    @property
    def qualified_name(self) -> str:
        return self.metadata.qualified_name

    def to_dict(self, *, details: bool = False) -> dict[str, Any]:
        """The JSON form: the metadata's keys, then ``freshness``, ``reader``, ``error``,
        ``stats`` (rows, files, bytes, partitions, source, note and per-column profiles in
        schema order) and ``lineage``; with ``details``, also ``history``, ``stats_columns`` and
        ``schema_history`` (``None`` when not known)."""
        data = self.metadata.to_dict()
        fresh = self.facts.freshness
        data["freshness"] = None if fresh is None else fresh.to_dict()
        data["reader"] = self.facts.reader
        data["error"] = self.error
        data["stats"] = None if self.stats is None else self.stats.to_dict()
        data["lineage"] = None if self.lineage is None else self.lineage.to_dict()
        if details:
            data["history"] = (
                [c.to_dict() for c in self.facts.history] if fresh is not None else None
            )
            stats = self.facts.stats_columns
            data["stats_columns"] = None if stats is None else list(stats)
            data["schema_history"] = [c.to_dict() for c in self.schema_history]
        return data
