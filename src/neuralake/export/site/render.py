"""Table pages rendered (in forked worker processes for large catalogs), reusing the pages of
the last build that did not change.

The main process plans every catalog (slugs, references, lineage), then forks the workers, so
they inherit the plans and one Jinja environment each. It also describes every table itself:
entries may read storage, which must not happen in a forked child (Polars' and delta-rs' thread
pools do not survive a fork), so workers only render, from chunks of (declaration, entry).
Results come back in task order, so the output does not depend on which worker ran what. A page whose key (:func:`pages.page_key`) matches the
last build's manifest is hard-linked from the old site instead of rendered.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from neuralake.export.entry import TableEntry
from neuralake.export.site import markup
from neuralake.export.site.pages import (
    HISTORY_LIMIT,
    Declared,
    Plan,
    environment,
    page_key,
    render_table,
    search_doc,
)
from neuralake.export.site.preview import read_preview

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult, Pool

    from neuralake.export.site.terms import SearchDoc
    from neuralake.tables.base import Table

MANIFEST = ".neuralake-build.json"
MANIFEST_FORMAT = 1
#: Tables per task: large enough that pickling results stays cheap, small enough to balance.
CHUNK = 64
#: Catalogs this large render in several processes by default, where there are cores to spare.
PARALLEL_FROM = 2_000


@dataclass(frozen=True)
class PageRow:
    """What the main process needs from one rendered (or reused) table page."""

    rel: str
    name: str
    database: str
    type: str
    owner: str | None
    tags: tuple[str, ...]
    excerpt: str
    deprecated: bool
    error: str | None
    rows: int | None
    bytes: int | None
    failed: tuple[str, ...]
    key: str | None
    search: str
    # What the search index holds of the page; None for a kept page (the last build's index
    # has it, or described_search_doc makes it again if the index has to change).
    doc: SearchDoc | None
    rendered: bool


@dataclass(frozen=True)
class Previous:
    """The last build in the output folder: ``pages`` maps a page path to
    ``[key, search hash, excerpt, problems]``; ``search`` is the hash of all indexed parts,
    ``order`` the hash of the page paths in index order, ``names`` the name index's digest."""

    out: Path
    pages: dict[str, list[Any]]
    search: str | None
    order: str | None
    names: str | None

    @classmethod
    def load(cls, out: Path) -> Previous | None:
        try:
            data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") != MANIFEST_FORMAT:
                return None
            return cls(out, dict(data["pages"]), data.get("search"), data.get("order"),
                       data.get("names"))  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def search_of(self, rel: str) -> str | None:
        """The hash of page ``rel``'s indexed text in the last build (``None``: no such page)."""
        old = self.pages.get(rel)
        return None if old is None else str(old[1])


def write_manifest(site: Path, pages: dict[str, list[Any]], **hashes: str) -> None:
    """The manifest of a build: its pages and the ``search``, ``order`` and ``names`` hashes."""
    data = {"format": MANIFEST_FORMAT, "pages": pages, **hashes}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    (site / MANIFEST).write_text(text + "\n", encoding="utf-8")


@dataclass
class _Job:
    plans: list[Plan]
    tmp: Path
    previous: Previous | None


_JOB: _Job | None = None  # set before the workers fork; read-only afterwards


def entry_of(table: Table) -> TableEntry:
    """As :func:`neuralake.export.metadata.iter_entries` describes each table."""
    try:
        return TableEntry.of(table, history=HISTORY_LIMIT)
    except Exception as exc:
        return TableEntry.broken(table, f"{type(exc).__name__}: {exc}")


def _reuse(job: _Job, rel: str, key: str | None) -> list[Any] | None:
    if key is None or job.previous is None:
        return None
    old = job.previous.pages.get(rel)
    if not old or old[0] != key:
        return None
    source = job.previous.out / rel
    try:
        os.link(source, job.tmp / rel)
    except OSError:
        try:  # a file system without hard links
            shutil.copyfile(source, job.tmp / rel)
        except OSError:
            return None
    return old


def _page(job: _Job, plan: Plan, declared: Declared, entry: TableEntry,
          table: Table | None = None) -> PageRow:  # fmt: skip
    """One page, rendered or reused; ``table`` (the main process only) reads its preview."""
    meta = entry.metadata
    rel = plan.rel(meta.database, meta.name)
    key = page_key(plan, declared, entry)
    old = _reuse(job, rel, key)
    doc = None
    if old is not None:
        search_hash, excerpt, failed = str(old[1]), str(old[2]), tuple(old[3])
    else:
        preview = None
        if plan.preview_rows and table is not None:
            preview = read_preview(table, plan.preview_rows, unreadable=bool(entry.error))
        html, doc, problems = render_table(plan, declared, entry, preview)
        with open(job.tmp / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        search_hash = hashlib.sha256(doc.digest_text().encode("utf-8")).hexdigest()
        excerpt, failed = markup.excerpt(meta.description), tuple(problems)
    stats = entry.stats
    return PageRow(
        rel=rel, name=meta.name, database=meta.database, type=meta.type, owner=meta.owner,
        tags=tuple(meta.tags), excerpt=excerpt, deprecated=bool(meta.deprecated),
        error=entry.error, rows=stats.rows if stats else None,
        bytes=stats.bytes if stats else None, failed=failed, key=key, search=search_hash,
        doc=doc, rendered=old is None,
    )  # fmt: skip


def described_search_doc(plan: Plan, table: Table) -> SearchDoc:
    """A kept page's search document (described again, in this process)."""
    return search_doc(plan, entry_of(table))


def _chunk(p: int, described: list[tuple[Declared, TableEntry]]) -> list[PageRow]:
    """Pages of plan ``p`` from their declarations and entries (run in a worker)."""
    assert _JOB is not None
    plan = _JOB.plans[p]
    return [_page(_JOB, plan, declared, entry) for declared, entry in described]


def worker_count(requested: int | None, tables: int, preview_rows: int) -> int:
    """Renderer processes: as requested, else one per core (capped at 4) for large catalogs.
    Previews read data, so pages that show them render in this process."""
    if preview_rows:
        return 1
    if requested is not None:
        return max(1, requested)
    if tables < PARALLEL_FROM:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


class Renderer:
    """``with Renderer(...) as r: for row in r.rows(plan_index): ...``

    Enter it before starting any thread: workers are forked on entry (after the builder froze
    the heap, so they keep sharing the plans' memory).
    This process describes every table; with ``workers`` > 1 the forked processes render the
    pages from :class:`~.pages.Declared` and entries sent at most ``2 * workers`` chunks ahead.
    """

    def __init__(self, plans: list[Plan], tmp: Path, previous: Previous | None,
                 workers: int) -> None:  # fmt: skip
        self.job = _Job(plans, tmp, previous)
        self.workers = workers
        self.pool: Pool | None = None

    def __enter__(self) -> Renderer:
        global _JOB
        _JOB = self.job
        if self.workers > 1:
            environment().get_template("table.html")  # compiled once, before the fork
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        global _JOB
        if self.pool is not None:
            if kind is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
            self.pool = None
        _JOB = None

    def rows(self, p: int) -> Iterator[PageRow]:
        """Rows of plan ``p``'s tables, in the plan's table order."""
        plan = self.job.plans[p]
        if self.pool is None:
            for table in plan.tables:
                yield _page(self.job, plan, Declared.of(table), entry_of(table), table)
            return
        pending: deque[AsyncResult[list[PageRow]]] = deque()
        tables = plan.tables
        for start in range(0, len(tables), CHUNK):
            described = [(Declared.of(t), entry_of(t)) for t in tables[start : start + CHUNK]]
            pending.append(self.pool.apply_async(_chunk, (p, described)))
            while len(pending) > 2 * self.workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
