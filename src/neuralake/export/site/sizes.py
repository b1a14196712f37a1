"""Size, column profiles and schema history as the site's templates show them.

Everything here was read from metadata by the table (:meth:`~neuralake.tables.base.Table.stats`,
:meth:`~neuralake.tables.base.Table.schema_history`); this module only formats it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace as NS
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuralake.tables.facts import SchemaChange, TableStats


def human_count(n: int | None) -> str:
    """``1234567`` as ``1,234,567``; ``unknown`` for ``None``."""
    return "unknown" if n is None else f"{n:,}"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000:
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def _value(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v)


def stats_view(stats: TableStats | None) -> NS | None:
    """The table page's size/shape facts and per-column min/max/nulls."""
    if stats is None:
        return None
    columns = [
        NS(name=c.name, min=_value(c.min), max=_value(c.max), note=c.note or "",
           nulls="" if c.null_count is None else human_count(c.null_count),
           fraction="" if c.null_fraction is None else f"{c.null_fraction:.1%}")
        for c in stats.columns
    ]  # fmt: skip
    return NS(
        rows=human_count(stats.rows),
        files=human_count(stats.files),
        size=human_bytes(stats.bytes),
        partitions=None if stats.partitions is None else human_count(stats.partitions),
        source=stats.source,
        note=stats.note,
        columns=columns,
    )


def history_view(changes: Sequence[SchemaChange]) -> list[NS]:
    """Schema changes, newest first, as timeline rows."""
    return [
        NS(version=c.version, change=c.change, column=c.column, type=c.type,
           timestamp=None if c.timestamp is None else c.timestamp.isoformat(),
           when="" if c.timestamp is None else c.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC"))
        for c in sorted(changes, key=lambda c: -c.version)
    ]  # fmt: skip


def totals(tables: Sequence[NS]) -> NS:
    """Rows and bytes summed over the tables whose size is known, and how many are not."""
    rows = [t.rows for t in tables if t.rows is not None]
    sizes = [t.bytes for t in tables if t.bytes is not None]
    unknown = sum(1 for t in tables if t.rows is None)
    return NS(
        rows=sum(rows),
        rows_text=human_count(sum(rows)),
        bytes=sum(sizes),
        size=human_bytes(sum(sizes)),
        unknown=unknown,
        known=bool(rows or sizes),
    )
