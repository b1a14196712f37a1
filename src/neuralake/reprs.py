"""Small HTML and text summaries for notebooks: catalogs, bound tables and table metadata.

Every text is HTML-escaped and no JavaScript is emitted, so a hostile name or description
shows as text. Built from declarations and metadata only: the one storage call is a table's
:meth:`~neuralake.tables.base.Table.stats` (metadata, never a data scan), and it may fail.

Example:
    >>> import polars as pl
    >>> from neuralake import Catalog, Database, FunctionTable
    >>> t = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="t", owner="<me>")
    >>> "&lt;me&gt;" in catalog_html(Catalog({"db": Database([t])}))
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from neuralake.storage import redact_uri

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.storage import StorageConfig
    from neuralake.tables.base import Table
    from neuralake.tables.facts import TableStats

#: Rows listed before "... and N more", so a huge catalog or table stays a small repr.
MAX_ROWS = 50
_STYLE = "text-align:left;vertical-align:top"


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _facts(rows: Iterable[tuple[str, str | None]]) -> str:
    """A two-column table of already-escaped values, skipping empty ones."""
    cells = "".join(
        f'<tr><th style="{_STYLE}">{_e(k)}</th><td style="{_STYLE}">{v}</td></tr>'
        for k, v in rows
        if v
    )
    return f"<table>{cells}</table>"


def _grid(header: Iterable[str], rows: list[tuple[object, ...]], total: int) -> str:
    head = "".join(f'<th style="{_STYLE}">{_e(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_STYLE}">{_e(c)}</td>' for c in row) + "</tr>"
        for row in rows[:MAX_ROWS]
    )
    more = f"<p>… and {total - MAX_ROWS} more</p>" if total > MAX_ROWS else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _tags(tags: Iterable[str]) -> str:
    return ", ".join(f"<code>{_e(t)}</code>" for t in tags)


def _description(text: str) -> str:
    # Plain text, not rendered Markdown: the notebook shows exactly what was declared.
    return f'<div style="white-space:pre-wrap">{_e(text.strip())}</div>' if text.strip() else ""


def catalog_text(catalog: Catalog) -> str:
    """Plain summary: the catalog's name, then one line per database with its table count."""
    items = catalog.registry.items()
    counts = {db: 0 for db in catalog.dbs}
    for db, _ in items:
        counts[db] = counts.get(db, 0) + 1
    lines = [f"Catalog {catalog.name!r}: {len(items)} tables in {len(counts)} databases"]
    lines += [f"  {db}: {n} table{'' if n == 1 else 's'}" for db, n in sorted(counts.items())]
    return "\n".join(lines)


def catalog_html(catalog: Catalog) -> str:
    """Databases with table counts, then a table list (name, type, owner, tags)."""
    items = catalog.registry.items()
    counts = {db: 0 for db in catalog.dbs}
    for db, _ in items:
        counts[db] = counts.get(db, 0) + 1
    dbs = ", ".join(f"<code>{_e(db)}</code> ({n})" for db, n in sorted(counts.items()))
    rows: list[tuple[object, ...]] = [
        (f"{db}.{t.name}", t.table_type, t.owner or "", ", ".join(t.tags))
        for db, t in items[:MAX_ROWS]
    ]
    return (
        f"<div><strong>Catalog {_e(catalog.name)}</strong>: {len(items)} tables in "
        f"{len(counts)} databases{': ' + dbs if dbs else ''}"
        f"{_grid(('table', 'type', 'owner', 'tags'), rows, len(items))}</div>"
    )


def metadata_html(meta: Any) -> str:
    """The facts of a table page, from a ``TableMetadata`` alone (nothing is read from storage).

    Typed ``Any``: this module is what ``TableMetadata._repr_html_`` calls, so it imports no
    metadata module (no import cycle).
    """
    source = None
    if meta.source is not None:
        where = f"{meta.source.file}:{meta.source.line}" if meta.source.file else ""
        source = f"<code>{_e(meta.source.module)}.{_e(meta.source.qualname)}</code> {_e(where)}"
    facts = _facts([
        ("Type", _e(meta.type)),
        ("Owner", _e(meta.owner)),
        ("Tags", _tags(meta.tags)),
        # TableMetadata drops embedded credentials; redacted again in case it was built by hand
        ("Location", f"<code>{_e(redact_uri(meta.location))}</code>" if meta.location else None),
        ("Partitioned by", _tags(meta.partitions)),
        ("Unique key", _tags(meta.unique_columns)),
        ("Deprecated", _e(meta.deprecated)),
        ("Parameters", _tags(p.name for p in meta.parameters)),
        ("Docs filters", _tags(f"{f.column} {f.op} {f.value!r}" for f in meta.docs_filters)),
        ("Defined in", source),
    ])  # fmt: skip
    if meta.columns is None:
        schema = "<p>Schema: unknown</p>"
    else:
        cols: list[tuple[object, ...]] = [
            (c.name, c.type + (" (partition)" if c.partition else ""), c.description or "")
            for c in meta.columns[:MAX_ROWS]
        ]
        schema = _grid(("column", "type", "description"), cols, len(meta.columns))
    return (
        f"<div><strong>{_e(meta.qualified_name)}</strong>{facts}"
        f"{_description(meta.description)}{schema}</div>"
    )


def stats_html(stats: TableStats | None) -> str:
    """Rows, files and bytes (``unknown`` where the metadata does not say)."""
    if stats is None:
        return _facts([("Stats", "unknown")])

    def num(value: int | None) -> str:
        return "unknown" if value is None else f"{value:,}"

    return _facts([
        ("Rows", num(stats.rows)), ("Files", num(stats.files)), ("Bytes", num(stats.bytes)),
        ("Stats note", _e(stats.note)),
    ])  # fmt: skip


def table_html(table: Table, *, stats: bool = True) -> str:
    """A bound table (``catalog.get_table("db.t")``): its metadata and, if asked, its stats.

    The schema is the declared one, else read from storage metadata; stats come from
    :meth:`~neuralake.tables.base.Table.stats`. Either failing shows ``unknown`` (the reason,
    redacted, is shown as a note).
    """
    storage: StorageConfig | None = None
    redact: Callable[[str], str] = redact_uri
    try:
        storage = table.resolve_storage()
        redact = storage.redact
    except Exception:  # unusable storage settings: describe the declaration only
        pass
    try:
        html = metadata_html(table.metadata(storage))
    except Exception:  # a custom table type whose metadata raises: show the declaration
        html = (f"<div><strong>{_e(table.qualified_name)}</strong>"
                + _facts([("Type", _e(getattr(table, "table_type", "custom"))),
                          ("Owner", _e(table.owner or "")), ("Tags", _tags(table.tags))])
                + _description(table.description or "") + "</div>")  # fmt: skip
    if not stats:
        return html
    try:
        found = table.stats(storage)
        part = stats_html(found)
    except Exception as exc:  # unreachable storage: the repr still renders
        note = redact(f"{type(exc).__name__}: {exc}").splitlines()[0][:200]
        part = _facts([("Stats", "unknown"), ("Stats note", _e(note))])
    return html[: -len("</div>")] + part + "</div>"
