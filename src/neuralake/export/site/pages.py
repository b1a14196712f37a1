"""One table page: what it shows (:func:`render_table`) and the key of everything it shows
(:func:`page_key`), so a rebuild can keep a page whose key did not change.

A page depends on its own export entry and declaration, on the site options, on the code and
templates that render it, and on a few facts about other tables: which ``db.table[.column]``
names in its texts resolve to pages, which columns refer to its columns, and its lineage
neighbours. The key covers all of them, so a change next door re-renders the neighbour too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace as NS
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from neuralake.errors import InvalidFilterError
from neuralake.export.site import markup, sizes
from neuralake.export.site.graph import lineage_view
from neuralake.export.site.refs import Refs, column_anchor
from neuralake.export.site.sizes import human_bytes
from neuralake.export.site.snippets import table_snippets
from neuralake.export.site.terms import SearchDoc
from neuralake.storage import redact_uri

if TYPE_CHECKING:
    import polars as pl

    from neuralake.export.entry import TableEntry
    from neuralake.export.site.preview import Preview
    from neuralake.filters import Filter
    from neuralake.metadata import Lineage, SourceLocation
    from neuralake.tables.base import Table

HISTORY_LIMIT = 10
_HERE = Path(__file__).parent


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("neuralake.export.site", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the site package's code, templates and assets: new code re-renders every page."""
    h = hashlib.sha256()
    for path in sorted(_HERE.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".css", ".js"):
            h.update(path.relative_to(_HERE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return iso.replace("T", " ")[:19] + (" UTC" if iso.endswith(("+00:00", "Z")) else "")


class Sources:
    """Turns a table's source location into a repo-relative label and optional link."""

    def __init__(self, repo_url: str | None) -> None:
        self.repo_url = repo_url
        self.cwd = Path.cwd().resolve()
        self._roots: dict[str, Path | None] = {}
        self._info: dict[SourceLocation, NS | None] = {}

    def _root(self, folder: Path) -> Path | None:
        key = str(folder)
        if key not in self._roots:
            found = None
            for parent in (folder, *folder.parents):
                if (parent / ".git").exists():
                    found = parent
                    break
            if found is None and folder.is_relative_to(self.cwd):
                found = self.cwd
            self._roots[key] = found
        return self._roots[key]

    def info(self, source: SourceLocation | None) -> NS | None:
        """``label`` (``file:line (module.qualname)``) and ``href`` (``None`` without a link)."""
        if source is None:
            return None
        if source not in self._info:  # asked for by the page key and by the page
            self._info[source] = self._describe(source)
        return self._info[source]

    def _describe(self, source: SourceLocation) -> NS | None:
        name = f"{source.module}.{source.qualname}"
        rel = None
        if source.file:
            path = Path(source.file)
            if path.is_absolute():
                root = self._root(path.parent)
                if root is not None and path.is_relative_to(root):
                    rel = path.relative_to(root).as_posix()
            elif ".." not in path.parts:
                rel = path.as_posix()
        if rel is None:
            return NS(label=name, href=None)
        line = source.line
        label = f"{rel}:{line}" if line else rel
        href = None
        if self.repo_url:
            try:
                href = markup.safe_url(
                    self.repo_url.format(path=quote(rel), line=line or 1, module=source.module)
                )
            except (KeyError, IndexError, ValueError):
                href = None
        return NS(label=f"{label} ({name})", href=href)


def project_root(reference: str | None) -> Path | None:
    """Folder of the catalog's ``pyproject.toml``: the nearest one above the working folder
    (where ``[tool.neuralake] catalog`` is read), else above the catalog's module."""
    starts = [Path.cwd().resolve()]
    if reference and ":" in reference:
        try:
            spec = importlib.util.find_spec(reference.split(":", 1)[0])
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            starts.append(Path(spec.origin).resolve().parent)
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / "pyproject.toml").is_file():
                return folder
    return None


def show_location(location: str | None, root: Path | None) -> str | None:
    """``location`` relative to ``root`` when it is a local path under it, else unchanged."""
    if not location or root is None:
        return location
    raw = location[len("file://") :] if location.startswith("file://") else location
    path = Path(raw)
    if not path.is_absolute() or "://" in raw:
        return location
    try:
        rel = Path(os.path.normpath(path)).relative_to(root)
    except ValueError:
        return location
    return rel.as_posix() or "."


def _extra(extra: dict[str, Any]) -> list[NS]:
    rows = []
    for key, value in extra.items():
        if isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        rows.append(NS(key=str(key).replace("_", " "), text=text, href=markup.safe_url(value)))
    return rows


@dataclass
class Plan:
    """Everything one catalog's table pages need besides their own table and entry.

    Built once in the main process before any page is rendered (worker processes inherit it).
    """

    catalog: str
    reference: str | None
    cslug: str
    tables: list[Table]
    slugs: dict[tuple[str, str], tuple[str, str]]
    refs: Refs
    lineage: dict[str, Lineage]
    root: Path | None
    sources: Sources
    site_title: str
    multi: bool
    api_url: str | None
    preview_rows: int

    def rel(self, database: str, name: str) -> str:
        dslug, tslug = self.slugs[(database, name)]
        return f"{self.cslug}/{dslug}/{tslug}.html"


@dataclass(frozen=True)
class Declared:
    """What a table page shows of the declaration besides its export entry. Picklable, so
    spawned renderers get it without the table object (function tables hold closures)."""

    docs_filters: tuple[Filter, ...]
    docs_columns: tuple[str, ...] | None
    declared_schema: pl.Schema | None

    @classmethod
    def of(cls, table: Table) -> Declared:
        return cls(table.docs_filters, table.docs_columns, table.declared_schema)


def _schema(table: Declared, entry: TableEntry) -> Any:
    return table.declared_schema if table.declared_schema is not None else entry.facts.schema


def _columns(plan: Plan, entry: TableEntry) -> list[NS]:
    meta = entry.metadata
    stats = set(entry.facts.stats_columns or ())
    keys = set(meta.unique_columns)
    refs = plan.refs
    link = refs.href
    declared_refs = dict(meta.references)
    # Objects with attributes (not dicts) keep Jinja's attribute lookups on the fast path.
    return [
        NS(name=c.name, type=c.type, doc=markup.link_references(
               markup.markdown_inline(c.description), link) + (
               Markup(" ") + refs.declared(declared_refs[c.name])
               if c.name in declared_refs else ""),
           partition=c.partition, key=c.name in keys, stats=c.name in stats,
           anchor=column_anchor(c.name),
           referenced_by=refs.referenced_by(meta.database, meta.name, c.name))
        for c in meta.columns or ()
    ]  # fmt: skip


def _shared(plan: Plan, entry: TableEntry, columns: list[NS]) -> dict[str, Any]:
    """Template values of the page (its search document is made from the same ones)."""
    meta = entry.metadata
    deprecated = markup.markdown_inline(meta.deprecated)
    return {
        "t": meta,
        "catalog": plan.catalog,
        "multi": plan.multi,
        "columns": columns,
        "deprecated": markup.link_references(deprecated, plan.refs.href),
        "search_text": markup.plain_text(meta.description),
    }


def _search_doc(shared: dict[str, Any]) -> SearchDoc:
    meta = shared["t"]
    text = [shared["search_text"], markup.html_text(shared["deprecated"])]
    text += [f"{c.name} {markup.html_text(c.doc)}" for c in shared["columns"] if c.doc]
    return SearchDoc(
        name=meta.name, database=meta.database, type=meta.type, catalog=shared["catalog"],
        deprecated=bool(meta.deprecated), owner=meta.owner, tags=tuple(meta.tags),
        columns=tuple(c.name for c in shared["columns"]), text=" ".join(t for t in text if t),
    )  # fmt: skip


def search_doc(plan: Plan, entry: TableEntry) -> SearchDoc:
    """What the search index holds of the table's page (:class:`~.terms.SearchDoc`)."""
    return _search_doc(_shared(plan, entry, _columns(plan, entry)))


def render_table(
    plan: Plan, table: Declared, entry: TableEntry, preview: Preview | None = None
) -> tuple[str, SearchDoc, list[str]]:
    """The page's HTML, its :func:`search_doc` and the problems to report (docs filters
    that do not fit the schema). ``preview`` is the :func:`~.preview.read_preview` to show."""
    meta, facts = entry.metadata, entry.facts
    failed: list[str] = []
    link = plan.refs.href
    shared = _shared(plan, entry, _columns(plan, entry))
    fresh = None
    if facts.freshness is not None:
        f = facts.freshness
        fresh = NS(**f.to_dict(), when=_when(f.timestamp), size=human_bytes(f.size_bytes))
    history = [
        NS(version=c.version, operation=c.operation,
           timestamp=None if c.timestamp is None else c.timestamp.isoformat(),
           when=_when(None if c.timestamp is None else c.timestamp.isoformat()),
           parameters=", ".join(f"{k}: {v}" for k, v in c.parameters))
        for c in facts.history
    ]  # fmt: skip
    ref = plan.reference
    try:  # docs filters are checked against the schema, as a read would check them
        snips = table_snippets(ref, meta.database, meta.name, table.docs_filters,
                               table.docs_columns, _schema(table, entry), meta.parameters)  # fmt: skip
    except InvalidFilterError as exc:
        failed.append(redact_uri(f"{meta.qualified_name}: docs_filters: {exc}"))
        snips = table_snippets(ref, meta.database, meta.name, (), table.docs_columns,
                               parameters=meta.parameters)  # fmt: skip
    snippets = [
        NS(id="snippet-python", kind="python", title="Python", code=snips.python),
        NS(id="snippet-sql", kind="python-sql", title="SQL (Python)", code=snips.sql),
        NS(id="snippet-cli", kind="shell", title="Command line", code=snips.cli),
    ]
    if plan.api_url:
        from neuralake.api import curl_snippet

        code = curl_snippet(plan.api_url, meta.database, meta.name, table.docs_filters,
                            columns=table.docs_columns)  # fmt: skip
        snippets.append(NS(id="snippet-api", kind="shell", title="HTTP API (curl)", code=code))
    html = (
        environment()
        .get_template("table.html")
        .render(
            **shared,
            root="../../",
            site_title=plan.site_title,
            error=entry.error,
            reader=facts.reader,
            description=markup.markdown(meta.description),
            # TableMetadata drops embedded credentials
            location=show_location(meta.location, plan.root),
            meta_description=markup.excerpt(meta.description),
            source=plan.sources.info(meta.source),
            fresh=fresh,
            history=history,
            stats=sizes.stats_view(entry.stats),
            schema_changes=sizes.history_view(entry.schema_history),
            snippets=snippets,
            extra=_extra(dict(meta.extra)),
            lineage=lineage_view(meta.qualified_name, plan.lineage.get(meta.qualified_name), link),
            preview=preview,
        )
    )
    return html, _search_doc(shared), failed


def _resolved(refs: Refs, text: str | None) -> list[object]:
    """Every ``db.table[.column]`` in ``text`` with the link it resolves to now."""
    if not text:
        return []
    return [(r, refs.href(*r)) for r in markup.references(str(markup.markdown_inline(text)))]


def options_key(plan: Plan) -> list[object]:
    """The site options every page of ``plan`` shows (part of each page key)."""
    return [code_version(), plan.catalog, plan.reference, plan.site_title, plan.multi,
            plan.api_url, plan.sources.repo_url, str(plan.root)]  # fmt: skip


def page_key(plan: Plan, table: Declared, entry: TableEntry) -> str | None:
    """Hash of everything :func:`render_table` shows, or ``None`` if the page reads data
    (previews), which a key cannot cover."""
    if plan.preview_rows:
        return None
    meta, refs = entry.metadata, plan.refs
    lineage = plan.lineage.get(meta.qualified_name)
    neighbours: list[object] = []
    if lineage is not None:
        for q in (*lineage.upstream, *lineage.downstream):
            db, _, name = q.partition(".")
            neighbours.append((q, refs.href(db, name, None)))
    columns = []
    declared = dict(meta.references)
    back = refs.back
    for c in meta.columns or ():
        by = [(x, refs.href(*x)) for x in back.get((meta.database, meta.name, c.name), ())]
        target = declared.get(c.name)
        href = None if target is None else refs.href(*target.split("."))
        columns.append((c.name, _resolved(refs, c.description), by, href))
    source = plan.sources.info(meta.source)
    data = [
        options_key(plan),
        entry.to_dict(details=True),
        None if lineage is None else lineage.to_dict(),
        neighbours,
        columns,
        _resolved(refs, meta.deprecated),
        sorted(meta.references),
        None if source is None else [source.label, source.href],
        show_location(meta.location, plan.root),
        [repr(f) for f in table.docs_filters],
        None if table.docs_columns is None else list(table.docs_columns),
        str(_schema(table, entry)),
        list(entry.facts.stats_columns or ()),
    ]
    # repr, not JSON: several times faster, and as exact (the parts are plain values in a
    # fixed order; an object without a stable repr only costs a re-render)
    return hashlib.sha256(repr(data).encode("utf-8")).hexdigest()
