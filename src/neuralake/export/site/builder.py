"""Render the static catalog site: index → database → table pages, assets and search index.

Pages are rendered from the metadata export (:mod:`neuralake.export.metadata`) one table at a
time (nothing but a short summary per table is kept in memory), written into a temporary folder
next to ``out`` and moved into place when complete. Output is deterministic: same catalog and
same storage state → byte-identical files.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace as NS
from typing import TYPE_CHECKING, Any

from neuralake.errors import NeuralakeError
from neuralake.export.site import names, sizes, terms
from neuralake.export.site.pages import (
    Plan,
    Sources,
    environment,
    project_root,
    show_location,
)
from neuralake.export.site.paths import RESERVED_ROOT, Slugs
from neuralake.export.site.progress import Progress
from neuralake.export.site.refs import Refs
from neuralake.export.site.render import (
    PageRow,
    Previous,
    Renderer,
    described_search_doc,
    worker_count,
    write_manifest,
)
from neuralake.export.site.sizes import human_bytes
from neuralake.lineage import catalog_lineage

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

__all__ = ["SiteBuildError", "SiteReport", "build_site", "project_root", "show_location"]

MARKER = ".neuralake-site"
ASSETS = ("site.css", "site.js", "search-worker.js")
SEARCH = (terms.TERMS, terms.DOCS, terms.INDEX, terms.FILTERS_FILE)
NAMES = (names.DIR, names.INDEX)
#: Update the last build's search index, rather than write it whole, when at most this share
#: of the pages changed their text.
UPDATE_SHARE = 0.05


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
        rendered: Table pages rendered this time; the others were kept from the last build
            because nothing they show changed.
        search_reused: The search index of the last build was kept (no indexed text changed).
        search_updated: The last build's search index was updated where a few pages' text
            changed, instead of written whole.
    """

    out: Path
    tables: int
    failed: tuple[str, ...]
    seconds: float
    rendered: int = 0
    search_reused: bool = False
    search_updated: bool = False


@dataclass
class _Db:
    name: str
    slug: str
    tables: list[NS] = field(default_factory=list)


def _sized(tables: list[NS]) -> list[NS]:
    """The database page's size rows (none when no table reports a size)."""
    if all(t.rows is None and t.bytes is None for t in tables):
        return []
    return [NS(name=t.name, href=t.href, rows=t.rows, bytes=t.bytes,
               rows_text=sizes.human_count(t.rows), size=human_bytes(t.bytes))
            for t in tables]  # fmt: skip


class _Builder:
    def __init__(self, tmp: Path, site_title: str, previous: Previous | None) -> None:
        self.tmp = tmp
        self.previous = previous
        self.names = names.NameIndex()
        self.terms = terms.TermIndex()
        self.site_title = site_title
        env = environment()
        self.t_db = env.get_template("database.html")
        self.t_index = env.get_template("index.html")
        self.t_search = env.get_template("search.html")
        self.failed: list[str] = []
        self.failed_links: list[dict[str, str]] = []
        self.count = 0
        self.rendered = 0
        self.manifest: dict[str, list[Any]] = {}
        self.search_hash = hashlib.sha256()
        self.order_hash = hashlib.sha256()  # the pages, in order
        self.changed: list[int] = []  # pages whose search document changed since the last build
        # Kept pages (page number, plan, table index): their search documents come from the
        # last build's index, and only if the index has to change.
        self.deferred: list[tuple[int, Plan, int]] = []

    def write(self, rel: str, html: str) -> None:
        with open(self.tmp / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)

    def catalog(self, plan: Plan, dbs: dict[str, _Db], rows: Iterator[PageRow],
                progress: Progress) -> dict[str, Any]:  # fmt: skip
        cslug = plan.cslug
        cat_index = self.names.catalog(plan.catalog)
        for k, row in enumerate(rows):
            db = dbs[row.database]
            rel = row.rel
            if row.key is not None:
                self.manifest[rel] = [row.key, row.search, row.excerpt, list(row.failed)]
            self.search_hash.update(f"{rel}\0{row.search}\n".encode())
            self.order_hash.update(f"{rel}\n".encode())
            self.failed.extend(row.failed)
            # its words are filed while the workers render
            page = self.terms.add(rel, row.doc, (plan.catalog, row.database, row.type, row.tags))
            if row.doc is None:
                self.deferred.append((page, plan, k))
            elif self.previous is None or self.previous.search_of(rel) != row.search:
                self.changed.append(page)
            self.names.add(row.name, row.database, rel, row.type, row.deprecated, cat_index)
            if row.error:
                qualified = f"{row.database}.{row.name}"
                self.failed.append(f"{qualified}: {row.error}")
                self.failed_links.append(
                    {"href": rel, "label": f"{plan.catalog}: {qualified}", "error": row.error}
                )  # fmt: skip
            db.tables.append(NS(
                name=row.name, href=rel.rsplit("/", 1)[1], type=row.type,
                owner=row.owner, tags=list(row.tags), excerpt=row.excerpt,
                deprecated=row.deprecated, error=bool(row.error), rows=row.rows, bytes=row.bytes,
            ))  # fmt: skip
            self.count += 1
            self.rendered += row.rendered
            progress.advance()
        summaries = []
        for db in dbs.values():
            self.write(
                f"{cslug}/{db.slug}/index.html",
                self.t_db.render(root="../../", site_title=self.site_title,
                                 catalog=plan.catalog, db=db.name, tables=db.tables,
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
        return {"name": plan.catalog, "slug": cslug, "databases": summaries,
                "tables": sum(d["tables"] for d in summaries)}  # fmt: skip

    def finish_search(self) -> str:
        """Write the search index: ``"kept"`` (the last build's, as no page's indexed text
        changed), ``"updated"`` (the last build's where a few pages' text changed, the pages
        being the same) or ``"written"`` whole."""
        previous = self.previous
        if previous is not None:
            if previous.search == self.search_hash.hexdigest() and _link(previous.out, self.tmp,
                                                                        SEARCH):  # fmt: skip
                return "kept"
            if (previous.order == self.order_hash.hexdigest()
                    and len(self.changed) <= len(self.terms.urls) * UPDATE_SHARE
                    and _link(previous.out, self.tmp, SEARCH)):  # fmt: skip
                if self.terms.update(self.tmp, self.changed):
                    return "updated"
                _unlink(self.tmp, SEARCH)
        if self.deferred:
            old = terms.read_docs(previous.out) if previous is not None else {}
            for page, plan, k in self.deferred:
                doc = old.get(self.terms.urls[page])
                self.terms.fill(page, doc or described_search_doc(plan, plan.tables[k]))
        self.terms.write(self.tmp)
        return "written"

    def search_page(self) -> None:
        (self.tmp / "search").mkdir(exist_ok=True)
        self.write("search/index.html",
                   self.t_search.render(root="../", site_title=self.site_title,
                                        search_page=True))  # fmt: skip

    def index(self, catalogs: list[dict[str, Any]]) -> None:
        self.write(
            "index.html",
            self.t_index.render(
                root="", site_title=self.site_title, catalogs=catalogs,
                total=sum(c["tables"] for c in catalogs), failed=self.failed_links[:50],
                failed_more=max(0, len(self.failed_links) - 50),
            ),
        )  # fmt: skip


def _link(old: Path, tmp: Path, parts: tuple[str, ...]) -> bool:
    """Hard-link folders and files of the last build into the new site (``False``: they could
    not all be linked, and none is)."""
    try:
        for rel in parts:
            if (old / rel).is_dir():
                shutil.copytree(old / rel, tmp / rel, copy_function=os.link)
            else:
                os.link(old / rel, tmp / rel)
        return True
    except OSError:
        _unlink(tmp, parts)
        return False


def _unlink(tmp: Path, parts: tuple[str, ...]) -> None:
    for rel in parts:
        if (tmp / rel).is_dir():
            shutil.rmtree(tmp / rel, ignore_errors=True)
        else:
            (tmp / rel).unlink(missing_ok=True)


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


def _plan(tmp: Path, catalog: Catalog, reference: str | None, cslug: str,
          options: dict[str, Any]) -> tuple[Plan, dict[str, _Db]]:  # fmt: skip
    (tmp / cslug).mkdir()
    db_slugs = Slugs()
    dbs: dict[str, _Db] = {}
    for name in catalog.dbs:
        dbs[name] = _Db(name, db_slugs.take(name))
        (tmp / cslug / dbs[name].slug).mkdir()
    table_slugs: dict[str, Slugs] = {name: Slugs(frozenset({"index"})) for name in dbs}
    # Slugs are allocated up front so reference links can point at pages not written yet.
    declared = catalog.tables()
    slugs = {(t.database or "", t.name): (dbs[t.database or ""].slug,
                                          table_slugs[t.database or ""].take(t.name))
             for t in declared}  # fmt: skip
    plan = Plan(catalog=catalog.name, reference=reference, cslug=cslug, tables=declared,
                slugs=slugs, refs=Refs(declared, slugs),
                lineage=catalog_lineage(catalog),  # downstream needs every table's plan first
                root=project_root(reference), **options)  # fmt: skip
    return plan, dbs


def build_site(
    catalogs: Sequence[tuple[Catalog, str | None]],
    out: str | Path,
    *,
    strict: bool = False,
    repo_url: str | None = None,
    progress: bool | None = None,
    api_url: str | None = None,
    preview_rows: int = 0,
    workers: int | None = None,
    reuse: bool = True,
) -> SiteReport:
    """Build the static catalog site into ``out``; see :func:`neuralake.export.site.build_site`.

    ``preview_rows`` > 0 shows that many first rows on each table page (the only data read; see
    :mod:`neuralake.export.site.preview`). ``workers`` is the number of processes that render
    pages (default: one per core beside the one the search indexer uses, at most 4, for
    catalogs of 2,000 tables or more; always one with previews); tables are described in this
    process either way. With ``reuse``, pages of a site
    built before in ``out`` whose content key did not change are kept instead of rendered
    again.
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
    options = {"sources": Sources(repo_url), "site_title": title, "multi": len(catalogs) > 1,
               "api_url": api_url, "preview_rows": preview_rows}  # fmt: skip
    builder: _Builder | None = None
    # The catalog, then the plans, are left out of the collector's passes during the build:
    # at 100,000 tables its full passes over them cost more than describing the tables, and
    # forked renderers that never see them visited keep sharing their memory pages.
    gc.freeze()
    try:
        previous = Previous.load(out) if reuse and (out / MARKER).exists() else None
        planned = [_plan(tmp, cat, ref, slug, options)
                   for (cat, ref), slug in zip(catalogs, _catalog_slugs(catalogs), strict=True)]  # fmt: skip
        gc.freeze()
        count = worker_count(workers, total, preview_rows)
        renderer = Renderer([p for p, _ in planned], tmp, previous, workers=count)
        with renderer:
            builder = _Builder(tmp, title, previous)
            summaries = [builder.catalog(plan, dbs, renderer.rows(i), bar)
                         for i, (plan, dbs) in enumerate(planned)]  # fmt: skip
        builder.index(summaries)
        builder.search_page()
        (tmp / "assets").mkdir()
        assets = Path(__file__).parent / "assets"
        for name in ASSETS:
            shutil.copyfile(assets / name, tmp / "assets" / name)
        (tmp / MARKER).write_text("neuralake static catalog site\n", encoding="utf-8")
        bar.stage("Indexing for search")
        names_hash = builder.names.digest()
        if previous is None or previous.names != names_hash or not _link(previous.out, tmp, NAMES):
            builder.names.write(tmp)
        gc.freeze()  # and what describing made, which full passes would visit while indexing
        search = builder.finish_search()
        write_manifest(tmp, builder.manifest, search=builder.search_hash.hexdigest(),
                       order=builder.order_hash.hexdigest(), names=names_hash)  # fmt: skip
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
        gc.unfreeze()
    report = SiteReport(out=out, tables=builder.count, failed=tuple(builder.failed),
                        seconds=round(time.perf_counter() - start, 3),
                        rendered=builder.rendered, search_reused=search == "kept",
                        search_updated=search == "updated")  # fmt: skip
    if strict and report.failed:
        raise SiteBuildError(
            f"{len(report.failed)} table(s) could not be read (site written to {out}):\n  "
            + "\n  ".join(report.failed)
        )
    return report
