"""Column references between a catalog's tables, linked both ways on the site."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace as NS
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from neuralake.export.site import markup
from neuralake.export.site.paths import slug

if TYPE_CHECKING:
    from neuralake.tables.base import Table


class Refs:
    """Column references between tables of one catalog (``db.table.column`` in column docs and
    declared ``references=``).

    Collected from declarations before any page is rendered, so a source page can link to its
    target and the target page can list what refers to it whichever is rendered first. A
    target column counts as existing if the table declares it (schema, column docs or
    partitions); nothing is read from storage for this.
    """

    def __init__(
        self, tables: Sequence[Table], slugs: dict[tuple[str, str], tuple[str, str]]
    ) -> None:
        self.slugs = slugs  # (db, table) -> (db slug, table slug)
        self.columns: dict[tuple[str, str], set[str]] = {}
        for t in tables:
            cols = set(t.column_docs) | set(t.partitions)
            if t.declared_schema is not None:
                cols |= set(t.declared_schema.names())
            self.columns[(t.database or "", t.name)] = cols
        self.back: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
        for t in tables:
            named = [(col, ref) for col, doc in sorted(t.column_docs.items())
                     for ref in markup.references(doc)]  # fmt: skip
            for col, qualified in sorted(getattr(t, "references", {}).items()):
                db, name, target = qualified.split(".")
                named.append((col, (db, name, target)))
            for col, (db, name, target) in named:
                if target is not None and target in self.columns.get((db, name), ()):
                    src = (t.database or "", t.name, col)
                    refs = self.back.setdefault((db, name, target), [])
                    if src not in refs and src[:2] != (db, name):
                        refs.append(src)

    def href(self, db: str, name: str, column: str | None) -> str | None:
        """Link from a table page to ``db.name`` (and its ``column`` row), if they exist."""
        if (db, name) not in self.slugs:
            return None
        if column is not None and column not in self.columns[(db, name)]:
            return None
        dslug, tslug = self.slugs[(db, name)]
        return f"../{dslug}/{tslug}.html" + ("" if column is None else f"#{column_anchor(column)}")

    def declared(self, qualified: str) -> Markup:
        """A declared reference, shown after the column's description (a link if it exists)."""
        db, name, column = qualified.split(".")
        href = self.href(db, name, column)
        target = escape(qualified) if href is None else Markup(
            f'<a href="{escape(href)}">{escape(qualified)}</a>')  # fmt: skip
        return Markup('<span class="ref small">References <code>{}</code></span>').format(target)

    def referenced_by(self, db: str, name: str, column: str) -> list[NS]:
        return [NS(label=f"{d}.{t}.{c}", href=self.href(d, t, c))
                for d, t, c in self.back.get((db, name, column), ())]  # fmt: skip


def column_anchor(column: str) -> str:
    """The ``id`` of a column's schema row (safe characters only)."""
    return "col-" + slug(column)
