"""Render the static catalog site: index → database → table pages, assets and search index.

Pages are rendered from the metadata export (:mod:`neuralake.export.metadata`) one table at a
time (nothing but a short summary per table is kept in memory), written into a temporary folder
next to ``out`` and moved into place when complete. Output is deterministic: same catalog and
same storage state → byte-identical files.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace as NS
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from neuralake.errors import InvalidFilterError, NeuralakeError
from neuralake.export.metadata import iter_entries
from neuralake.export.site import markup, search, sizes
from neuralake.export.site.graph import lineage_view
from neuralake.export.site.names import NameIndex
from neuralake.export.site.paths import RESERVED_ROOT, Slugs
from neuralake.export.site.preview import read_preview
from neuralake.export.site.progress import Progress
from neuralake.export.site.refs import Refs, column_anchor
from neuralake.export.site.sizes import human_bytes
from neuralake.export.site.snippets import table_snippets
from neuralake.lineage import catalog_lineage
from neuralake.storage import redact_uri

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.export.entry import TableEntry
    from neuralake.metadata import Lineage, SourceLocation
    from neuralake.tables.base import Table

logger = logging.getLogger("neuralake")

MARKER = ".neuralake-site"
HISTORY_LIMIT = 10
ASSETS = ("site.css", "site.js", "search-worker.js")
#: Pagefind weights of a table's name, column names and owner; deprecated tables get the low ones
#: so they rank below current tables.
WEIGHTS = NS(name=10, column=6, owner=4)
DEPRECATED_WEIGHTS = NS(name=2, column=1, owner=1)


class SiteBuildError(NeuralakeError):
    """The site could not be built, or (with ``strict``) some tables could not be read."""


@dataclass(frozen=True)
class SiteReport:
    """What :func:`build_site` did.

    Attributes:
        out: The site folder.
        tables: Number of table pages written.
        failed: ``"db.table: reason"`` for every table whose schema or freshness failed.
        seconds: Wall-clock build time.
    """

    out: Path
    tables: int
    failed: tuple[str, ...]
    seconds: float


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("neuralake.export.site", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    return env


@dataclass
class _Db:
    name: str
    slug: str
    tables: list[NS] = field(default_factory=list)


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return iso.replace("T", " ")[:19] + (" UTC" if iso.endswith(("+00:00", "Z")) else "")


class _Sources:
    """Turns a table's source location into a repo-relative label and optional link."""

    def __init__(self, repo_url: str | None) -> None:
        self.repo_url = repo_url
        self.cwd = Path.cwd().resolve()
        self._roots: dict[str, Path | None] = {}

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


def _sized(tables: list[NS]) -> list[NS]:
    """The database page's size rows (none when no table reports a size)."""
    if all(t.rows is None and t.bytes is None for t in tables):
        return []
    return [NS(name=t.name, href=t.href, rows=t.rows, bytes=t.bytes,
               rows_text=sizes.human_count(t.rows), size=human_bytes(t.bytes))
            for t in tables]  # fmt: skip


class _Builder:
    def __init__(self, tmp: Path, repo_url: str | None, multi: bool, site_title: str,
                 indexer: search.StreamingIndexer | None,
                 api_url: str | None = None, preview_rows: int = 0) -> None:  # fmt: skip
        self.tmp = tmp
        self.preview_rows = preview_rows
        self.api_url = api_url
        self.names = NameIndex()
        self.indexer = indexer
        self.sources = _Sources(repo_url)
        self.multi = multi
        self.site_title = site_title
        env = environment()
        self.t_table = env.get_template("table.html")
        self.t_db = env.get_template("database.html")
        self.t_index = env.get_template("index.html")
        self.t_search = env.get_template("search.html")
        self.refs = Refs((), {})
        self.lineage: dict[str, Lineage] = {}
        self.root: Path | None = None
        self.failed: list[str] = []
        self.failed_links: list[dict[str, str]] = []
        self.count = 0

    def write(self, rel: str, html: str) -> None:
        with open(self.tmp / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)

    def table_page(self, catalog_name: str, reference: str | None, table: Table,
                   entry: TableEntry) -> str:  # fmt: skip
        meta, facts = entry.metadata, entry.facts
        stats = set(facts.stats_columns or ())
        keys = set(meta.unique_columns)
        # Objects with attributes (not dicts) keep Jinja's attribute lookups on the fast path.
        link = self.refs.href
        declared_refs = dict(meta.references)
        columns = [
            NS(name=c.name, type=c.type, doc=markup.link_references(
                   markup.markdown_inline(c.description), link) + (
                   Markup(" ") + self.refs.declared(declared_refs[c.name])
                   if c.name in declared_refs else ""),
               partition=c.partition, key=c.name in keys, stats=c.name in stats,
               anchor=column_anchor(c.name),
               referenced_by=self.refs.referenced_by(meta.database, meta.name, c.name))
            for c in meta.columns or ()
        ]  # fmt: skip
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
        schema = table.declared_schema if table.declared_schema is not None else facts.schema
        try:  # docs filters are checked against the schema, as a read would check them
            snips = table_snippets(reference, meta.database, meta.name, table.docs_filters,
                                   table.docs_columns, schema, meta.parameters)  # fmt: skip
        except InvalidFilterError as exc:
            self.failed.append(redact_uri(f"{meta.qualified_name}: docs_filters: {exc}"))
            snips = table_snippets(reference, meta.database, meta.name, (), table.docs_columns,
                                   parameters=meta.parameters)  # fmt: skip
        snippets = [
            NS(id="snippet-python", kind="python", title="Python", code=snips.python),
            NS(id="snippet-sql", kind="python-sql", title="SQL (Python)", code=snips.sql),
            NS(id="snippet-cli", kind="shell", title="Command line", code=snips.cli),
        ]
        if self.api_url:
            from neuralake.api import curl_snippet

            code = curl_snippet(self.api_url, meta.database, meta.name, table.docs_filters,
                                columns=table.docs_columns)  # fmt: skip
            snippets.append(NS(id="snippet-api", kind="shell", title="HTTP API (curl)", code=code))
        return self.t_table.render(
            root="../../",
            site_title=self.site_title,
            indexed=True,
            catalog=catalog_name,
            multi=self.multi,
            t=meta,
            error=entry.error,
            reader=facts.reader,
            columns=columns,
            columns_meta=" ".join(c.name for c in columns),
            description=markup.markdown(meta.description),
            # TableMetadata drops embedded credentials
            location=show_location(meta.location, self.root),
            deprecated=markup.link_references(markup.markdown_inline(meta.deprecated), link),
            meta_description=markup.excerpt(meta.description),
            source=self.sources.info(meta.source),
            fresh=fresh,
            history=history,
            stats=sizes.stats_view(entry.stats),
            schema_changes=sizes.history_view(entry.schema_history),
            snippets=snippets,
            extra=_extra(dict(meta.extra)),
            lineage=lineage_view(meta.qualified_name, self.lineage.get(meta.qualified_name), link),
            preview=read_preview(table, self.preview_rows, unreadable=bool(entry.error))
            if self.preview_rows
            else None,
            search_text=markup.plain_text(meta.description),
            w=DEPRECATED_WEIGHTS if meta.deprecated else WEIGHTS,
        )

    def catalog(self, catalog: Catalog, reference: str | None, cslug: str,
                progress: Progress) -> dict[str, Any]:  # fmt: skip
        (self.tmp / cslug).mkdir()
        db_slugs = Slugs()
        dbs: dict[str, _Db] = {}
        for name in catalog.dbs:
            dbs[name] = _Db(name, db_slugs.take(name))
            (self.tmp / cslug / dbs[name].slug).mkdir()
        table_slugs: dict[str, Slugs] = {name: Slugs(frozenset({"index"})) for name in dbs}
        # Slugs are allocated up front so reference links can point at pages not written yet.
        declared = catalog.tables()
        slugs = {(t.database or "", t.name): (dbs[t.database or ""].slug,
                                              table_slugs[t.database or ""].take(t.name))
                 for t in declared}  # fmt: skip
        self.refs = Refs(declared, slugs)
        self.lineage = catalog_lineage(catalog)  # downstream needs every table's plan first
        self.root = project_root(reference)
        cat_index = self.names.catalog(catalog.name)
        for table, entry in iter_entries(catalog, history=HISTORY_LIMIT):
            meta = entry.metadata
            db = dbs[meta.database]
            tslug = slugs[(meta.database, meta.name)][1]
            rel = f"{cslug}/{db.slug}/{tslug}.html"
            page = self.table_page(catalog.name, reference, table, entry)
            self.write(rel, page)
            if self.indexer is not None:
                self._index(rel, page)
            self.names.add(meta.name, meta.database, rel, meta.type, bool(meta.deprecated),
                           cat_index)  # fmt: skip
            if entry.error:
                self.failed.append(f"{meta.qualified_name}: {entry.error}")
                self.failed_links.append(
                    {"href": rel, "label": f"{catalog.name}: {meta.qualified_name}",
                     "error": entry.error}
                )  # fmt: skip
            db.tables.append(NS(
                name=meta.name, href=f"{tslug}.html", type=meta.type,
                owner=meta.owner, tags=list(meta.tags),
                excerpt=markup.excerpt(meta.description),
                deprecated=bool(meta.deprecated), error=bool(entry.error),
                rows=entry.stats.rows if entry.stats else None,
                bytes=entry.stats.bytes if entry.stats else None,
            ))  # fmt: skip
            self.count += 1
            progress.advance()
        summaries = []
        for db in dbs.values():
            self.write(
                f"{cslug}/{db.slug}/index.html",
                self.t_db.render(root="../../", site_title=self.site_title, indexed=False,
                                 catalog=catalog.name, db=db.name, tables=db.tables,
                                 sizes=_sized(db.tables)),
            )  # fmt: skip
            owners = Counter(t.owner for t in db.tables if t.owner)
            tags = Counter(tag for t in db.tables for tag in t.tags)
            summaries.append({
                "name": db.name, "href": f"{cslug}/{db.slug}/index.html", "tables": len(db.tables),
                "types": sorted({t.type for t in db.tables}),
                "owners": [o for o, _ in sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))[:3]],
                "tags": [t for t, _ in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:6]],
                "failed": sum(t.error for t in db.tables), "totals": sizes.totals(db.tables),
                "listed": [NS(name=t.name, href=f"{cslug}/{db.slug}/{t.href}")
                           for t in db.tables] if len(db.tables) <= 12 else [],
            })  # fmt: skip
            db.tables = []  # free memory early
        return {"name": catalog.name, "slug": cslug, "databases": summaries,
                "tables": sum(d["tables"] for d in summaries)}  # fmt: skip

    def _index(self, rel: str, page: str) -> None:
        assert self.indexer is not None
        try:
            self.indexer.add("/" + rel, page)
        except OSError as exc:  # the service died: index the written files at the end instead
            logger.warning("Pagefind service stopped (%s); will index the written pages", exc)
            self.indexer.close()
            self.indexer = None

    def finish_search(self) -> None:
        """Write the Pagefind bundle (streamed if possible, else by indexing the written files)."""
        if self.indexer is not None:
            try:
                self.indexer.finish(self.tmp / "pagefind")
                return
            except (search.SearchIndexError, OSError) as exc:
                logger.warning(
                    "Pagefind service failed (%s); indexing the written pages instead", exc
                )
                shutil.rmtree(self.tmp / "pagefind", ignore_errors=True)
        search.build_index(self.tmp)

    def search_page(self) -> None:
        (self.tmp / "search").mkdir(exist_ok=True)
        self.write("search/index.html",
                   self.t_search.render(root="../", site_title=self.site_title, indexed=False,
                                        search_page=True))  # fmt: skip

    def index(self, catalogs: list[dict[str, Any]]) -> None:
        self.write(
            "index.html",
            self.t_index.render(
                root="", site_title=self.site_title, indexed=False, catalogs=catalogs,
                total=sum(c["tables"] for c in catalogs), failed=self.failed_links[:50],
                failed_more=max(0, len(self.failed_links) - 50),
            ),
        )  # fmt: skip


def _catalog_slugs(catalogs: Sequence[tuple[Catalog, str | None]]) -> list[str]:
    slugs = Slugs(RESERVED_ROOT)
    return [slugs.take(c.name.lower() or "catalog") for c, _ in catalogs]


def _prepare_out(out: Path) -> Path:
    if out.exists():
        if not out.is_dir():
            raise SiteBuildError(f"{out} exists and is not a folder.")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise SiteBuildError(
                f"{out} is not empty and was not built by neuralake; choose an empty or new folder."
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def _swap_into_place(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def build_site(
    catalogs: Sequence[tuple[Catalog, str | None]],
    out: str | Path,
    *,
    strict: bool = False,
    repo_url: str | None = None,
    progress: bool | None = None,
    api_url: str | None = None,
    preview_rows: int = 0,
) -> SiteReport:
    """Build the static catalog site into ``out``; see :func:`neuralake.export.site.build_site`.

    ``preview_rows`` > 0 shows that many first rows on each table page (the only data read; see
    :mod:`neuralake.export.site.preview`).
    """
    start = time.perf_counter()
    if preview_rows < 0:
        raise SiteBuildError(f"preview_rows must be 0 (off) or more, not {preview_rows}.")
    catalogs = list(catalogs)
    if not catalogs:
        raise SiteBuildError("No catalog to build a site for.")
    out = Path(out).resolve()
    tmp = _prepare_out(out)
    total = sum(len(c.registry.items()) for c, _ in catalogs)
    bar = Progress(total, "Building pages", progress)
    title = catalogs[0][0].name if len(catalogs) == 1 else "Data catalog"
    indexer = None
    try:
        try:
            indexer = search.StreamingIndexer()
        except (search.SearchIndexError, OSError) as exc:
            logger.warning("Cannot start the Pagefind service (%s); indexing files instead", exc)
            indexer = None
        builder = _Builder(tmp, repo_url, len(catalogs) > 1, title, indexer, api_url, preview_rows)
        summaries = [
            builder.catalog(cat, ref, slug, bar)
            for (cat, ref), slug in zip(catalogs, _catalog_slugs(catalogs), strict=True)
        ]
        builder.index(summaries)
        builder.search_page()
        (tmp / "assets").mkdir()
        assets = Path(__file__).parent / "assets"
        for name in ASSETS:
            shutil.copyfile(assets / name, tmp / "assets" / name)
        (tmp / MARKER).write_text("neuralake static catalog site\n", encoding="utf-8")
        bar.stage("Indexing for search")
        builder.names.write(tmp)
        try:
            builder.finish_search()
        except search.SearchIndexError as exc:
            raise SiteBuildError(str(exc)) from exc
        _swap_into_place(tmp, out)
    except BaseException:
        if indexer is not None:
            indexer.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    report = SiteReport(out=out, tables=builder.count, failed=tuple(builder.failed),
                        seconds=round(time.perf_counter() - start, 3))  # fmt: skip
    if strict and report.failed:
        raise SiteBuildError(
            f"{len(report.failed)} table(s) could not be read (site written to {out}):\n  "
            + "\n  ".join(report.failed)
        )
    return report
