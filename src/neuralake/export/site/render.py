"""Table pages rendered in worker processes, reusing the pages of the last build that did not
change.

The main process plans every catalog (slugs, references, lineage), then forks the workers, so
they inherit the plans, the catalog objects and one Jinja environment each without pickling
them. Each task is a chunk of consecutive tables; results come back in task order, so the
output does not depend on which worker ran what. A page whose key (:func:`pages.page_key`)
matches the last build's manifest is hard-linked from the old site instead of rendered.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from neuralake.export.entry import TableEntry
from neuralake.export.site import markup, search
from neuralake.export.site.pages import HISTORY_LIMIT, Plan, page_key, render_table

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from neuralake.tables.base import Table

MANIFEST = ".neuralake-build.json"
MANIFEST_FORMAT = 1
#: Tables per task: large enough that pickling results stays cheap, small enough to balance.
CHUNK = 64


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
    indexed: str | None
    rendered: bool


@dataclass(frozen=True)
class Previous:
    """The last build in the output folder: ``pages`` maps a page path to
    ``[key, search hash, excerpt, problems]``; ``search`` is the hash of all indexed parts."""

    out: Path
    pages: dict[str, list[Any]]
    search: str | None

    @classmethod
    def load(cls, out: Path) -> Previous | None:
        try:
            data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") != MANIFEST_FORMAT:
                return None
            return cls(out, dict(data["pages"]), data.get("search"))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def write_manifest(site: Path, pages: dict[str, list[Any]], search_hash: str) -> None:
    data = {"format": MANIFEST_FORMAT, "pages": pages, "search": search_hash}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    (site / MANIFEST).write_text(text + "\n", encoding="utf-8")


@dataclass
class _Job:
    plans: list[Plan]
    tmp: Path
    previous: Previous | None
    index: bool


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


def _page(job: _Job, plan: Plan, table: Table) -> PageRow:
    entry = entry_of(table)
    meta = entry.metadata
    rel = plan.rel(meta.database, meta.name)
    key = page_key(plan, table, entry)
    old = _reuse(job, rel, key)
    indexed = None
    if old is not None:
        search_hash, excerpt, failed = str(old[1]), str(old[2]), tuple(old[3])
        if job.index:
            indexed = search.indexed_part((job.tmp / rel).read_text(encoding="utf-8"))
    else:
        html, problems = render_table(plan, table, entry)
        with open(job.tmp / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        part = search.indexed_part(html)
        search_hash = hashlib.sha256(part.encode("utf-8")).hexdigest()
        excerpt, failed = markup.excerpt(meta.description), tuple(problems)
        indexed = part if job.index else None
    stats = entry.stats
    return PageRow(
        rel=rel, name=meta.name, database=meta.database, type=meta.type, owner=meta.owner,
        tags=tuple(meta.tags), excerpt=excerpt, deprecated=bool(meta.deprecated),
        error=entry.error, rows=stats.rows if stats else None,
        bytes=stats.bytes if stats else None, failed=failed, key=key, search=search_hash,
        indexed=indexed, rendered=old is None,
    )  # fmt: skip


def _chunk(task: tuple[int, int, int]) -> list[PageRow]:
    assert _JOB is not None
    p, start, stop = task
    plan = _JOB.plans[p]
    return [_page(_JOB, plan, table) for table in plan.tables[start:stop]]


def worker_count(requested: int | None) -> int:
    """One process unless more are asked for (forked workers are opt-in: see build_site)."""
    return 1 if requested is None else max(1, requested)


class Renderer:
    """``with Renderer(...) as r: for row in r.rows(plan_index): ...``

    Enter it before starting any thread (the Pagefind reader): workers are forked on entry.
    """

    def __init__(self, plans: list[Plan], tmp: Path, previous: Previous | None, index: bool,
                 workers: int) -> None:  # fmt: skip
        self.job = _Job(plans, tmp, previous, index)
        self.workers = workers
        self.pool: Pool | None = None

    def __enter__(self) -> Renderer:
        global _JOB
        _JOB = self.job
        if self.workers > 1:
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
        n = len(self.job.plans[p].tables)
        tasks = [(p, s, min(s + CHUNK, n)) for s in range(0, n, CHUNK)]
        if self.pool is None:
            for task in tasks:
                yield from _chunk(task)
        else:
            for rows in self.pool.imap(_chunk, tasks):
                yield from rows
