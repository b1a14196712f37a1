"""Benchmark the static catalog site at 10,000 and 100,000 tables.

    .venv/bin/python bench/site/bench_site.py            # 10k and 100k
    .venv/bin/python bench/site/bench_site.py --sizes 10000

Synthetic catalogs: function tables with 20 declared columns that are never read (each
function is called at most once, for the lineage read from its lazy plan; the bench asserts
it). Measures build time (pages and search index), the build's memory, output size, the largest
table page, a plain Pagefind index of the same pages for comparison (``pagefind --site``, same
run), and in headless Chromium the time from the first keystroke to the first rendered result and
the bytes transferred for that search (cold cache). Results go to bench/site/results.md and
results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl

from neuralake import Catalog, Database, Filter, FunctionTable
from neuralake.export.site import build_site
from neuralake.export.site.refs import Refs
from neuralake.export.site.serve import make_server
from neuralake.lineage import catalog_lineage

HERE = Path(__file__).parent
CALLS = {"n": 0}
WORDS = [
    "account",
    "address",
    "amount",
    "balance",
    "batch",
    "brand",
    "channel",
    "city",
    "class",
    "code",
    "comment",
    "cost",
    "country",
    "currency",
    "customer",
    "date",
    "day",
    "delivery",
    "device",
    "discount",
    "email",
    "event",
    "fee",
    "flag",
    "order",
    "invoice",
    "item",
    "key",
    "label",
    "latency",
    "ledger",
    "line",
    "market",
    "merchant",
    "name",
    "nation",
    "note",
    "order_date",
    "parcel",
    "partner",
    "payment",
    "phone",
    "price",
    "priority",
    "product",
    "quantity",
    "rate",
    "reason",
    "region",
    "return",
    "revenue",
    "score",
    "segment",
    "session",
    "shipment",
    "sku",
    "source",
    "status",
    "store",
    "supplier",
    "tax",
    "tier",
    "total",
    "type",
    "user",
    "vendor",
    "warehouse",
    "weight",
    "zone",
]
TAGS = [f"tag{i:02d}" for i in range(40)]
RARE_EVERY = 997
OWNERS = [f"team-{i:03d}" for i in range(150)]


def _plan_only() -> pl.LazyFrame:
    """Called at most once per table, for its lineage (the plan is read, never collected)."""
    CALLS["n"] += 1
    return pl.LazyFrame()


def synthetic_catalog(n: int, per_db: int = 1000, changed: int | None = None) -> Catalog:
    """``n`` tables; ``changed`` is the index of one table whose description gets a new line."""
    rng = random.Random(n)
    dtypes = [pl.Int64, pl.String, pl.Float64, pl.Date, pl.Boolean, pl.List(pl.String)]
    dbs: dict[str, list[FunctionTable]] = {}
    for i in range(n):
        db = f"db{i // per_db:03d}"
        name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i:06d}"
        cols = {f"t{i}_id": pl.Int64}
        for k in range(19):
            cols[f"{rng.choice(WORDS)}_{k}"] = rng.choice(dtypes)
        first = next(iter(cols))
        note = "\n\nChanged since the last build." if i == changed else ""
        if i % RARE_EVERY == 0:
            note += " Migrated from the mainframe."  # a rare description word
        dbs.setdefault(db, []).append(FunctionTable(
            _plan_only, name=name, schema=cols,
            description=f"Synthetic table {i} about {rng.choice(WORDS)} and {rng.choice(WORDS)}.\n\n"
                        f"Loaded by the **{rng.choice(WORDS)}** pipeline.{note}",
            owner=rng.choice(OWNERS), tags=rng.sample(TAGS, 2),
            column_docs={c: f"The {c.split('_')[0]} of the row" for c in list(cols)[:10]},
            docs_filters=[Filter(first, ">", 0)], docs_columns=list(cols)[:3],
        ))  # fmt: skip
    return Catalog({db: Database(ts) for db, ts in dbs.items()}, name=f"synthetic{n}")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the page renderers)."""
    import resource

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Memory:
    """Peak memory of a process (RSS, every second) plus its children's own pages (USS, every
    5 s: forked renderers share the parent's pages, which RSS would count again, and reading a
    USS walks the child's page map, which costs CPU the build would otherwise have)."""

    def __init__(self, pid: int | None = None) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _children(self) -> int:
        import psutil

        total = 0
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a renderer that just exited
                total += int(child.memory_full_info().uss)
        return total

    def _run(self) -> None:
        children, tick = 0, 0
        while not self._stop.wait(1.0):
            try:
                if tick % 5 == 0:
                    children = self._children()
                tick += 1
                self.peak = max(self.peak, int(self.proc.memory_info().rss) + children)
            except Exception:  # the process ended
                return

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)


def plain_pagefind(site: Path, work: Path) -> dict[str, object]:
    """Index the same pages with the Pagefind command line (what the site used to ship)."""
    import subprocess

    try:
        from pagefind_bin_extended import get_executable
    except ImportError:
        return {"skipped": "pagefind[extended] is not installed"}
    out = work / "pagefind-plain"
    cmd = [str(get_executable()), "--site", str(site), "--output-path", str(out),
           "--force-language", "en", "--silent"]  # fmt: skip
    cpu0 = _cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    with Memory(proc.pid) as mem:
        code = proc.wait()
    seconds = time.perf_counter() - t0
    size, files = dir_size(out)
    shutil.rmtree(out, ignore_errors=True)
    return {"exit": code, "seconds": round(seconds, 1), "cpu_seconds": round(_cpu() - cpu0, 1),
            "peak_mb": mem.mb, "bytes": size, "files": files}  # fmt: skip


def dir_size(path: Path) -> tuple[int, int]:
    total = files = 0
    for root, _, names in os.walk(path):
        for name in names:
            total += os.path.getsize(os.path.join(root, name))
            files += 1
    return total, files


ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def measure_search(site: Path, queries: list[str], delay: int = 0) -> list[dict[str, object]]:
    """Type each query into a cold page (``delay`` ms between keys) and time the results."""
    from playwright.sync_api import sync_playwright

    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for q in queries:
                ctx = browser.new_context()  # cold cache per query
                page = ctx.new_page()
                page.goto(base + "index.html")
                page.wait_for_load_state("networkidle")
                requests: list = []
                page.on("requestfinished", lambda r, sink=requests: sink.append(r))
                page.evaluate("""() => {
                  const inp = document.getElementById('q');
                  inp.addEventListener('keydown', () => { window.__tl = performance.now(); window.__t2 = 0; if (!window.__t0) window.__t0 = window.__tl; }, {capture: true});
                  new MutationObserver(() => { if (!window.__t1 && document.querySelector('#search-results li')) window.__t1 = performance.now(); })
                    .observe(document.getElementById('search-results'), {childList: true});
                  new MutationObserver(() => { if (!window.__t2 && / found$/.test(document.getElementById('search-status').textContent)) window.__t2 = performance.now(); })
                    .observe(document.getElementById('search-status'), {childList: true, characterData: true, subtree: true});
                }""")
                page.click("#q")
                page.keyboard.type(q, delay=delay)
                page.wait_for_selector("#search-results li", timeout=30000)
                page.wait_for_function("() => window.__t2", timeout=60000)
                page.wait_for_load_state("networkidle")
                ms = page.evaluate("window.__t1 - window.__t0")
                full_ms = page.evaluate("window.__t2 - window.__t0")
                after_last = page.evaluate("window.__t2 - window.__tl")
                names = page.locator("#search-results li.r-name").count()
                transferred = 0
                for r in requests:
                    sizes = r.sizes()
                    transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                status = page.inner_text("#search-status")
                out.append({"query": q, "first_results_ms": round(ms, 1),
                            "all_results_ms": round(full_ms, 1), "name_hits": names,
                            "typing_delay_ms": delay,
                            "all_results_after_last_key_ms": round(after_last, 1),
                            "bytes": transferred, "requests": len(requests),
                            "status": status})  # fmt: skip
                ctx.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def query_set(n: int, name: str, other: str) -> list[str]:
    """The fixed queries: every kind people type, common words among them."""
    column = "t12345_id" if n > 12345 else "t1234_id"
    return [
        name, other,  # exact table names
        name[: len(name) - 3], other.split("_")[0][:4], "revenue_typ",  # name prefixes
        column, "warehouse_4", "order_date_3",  # column names
        "team-042", "team-117",  # owners
        "tag07", "tag31",  # tags
        "mainframe", "migrated",  # rare description words
        "warehouse", "Warehouses", "pipeline", "revenue",  # common words
        "ware",  # a prefix of a common word
        "warehouse team-042", "mainframe warehouse", "warehouse revenue",  # multi-word
    ]  # fmt: skip


def rebuild_floor(catalog: Catalog) -> dict[str, float]:
    """The least a rebuild that must equal a full build does with every table, each part timed
    alone: call each function once for its lineage (a function may read other tables than it
    did last time), index the column references between tables, and look at each declaration
    (here only hashed, which is cheaper than describing it)."""
    tables = catalog.tables()
    gc.freeze()  # as the build does: the collector's passes over the catalog are not the floor
    t0 = time.perf_counter()
    catalog_lineage(catalog)
    t1 = time.perf_counter()
    Refs(tables, {(t.database or "", t.name): (t.database or "", t.name) for t in tables})
    t2 = time.perf_counter()
    for t in tables:
        declared = (t.name, t.database, t.description, t.owner, t.tags, t.column_docs,
                    t.docs_filters, t.docs_columns, t.declared_schema, t.deprecated, t.source)  # fmt: skip
        hashlib.sha256(repr(declared).encode()).digest()
    t3 = time.perf_counter()
    gc.unfreeze()
    return {"lineage_seconds": round(t1 - t0, 2), "references_seconds": round(t2 - t1, 2),
            "declarations_seconds": round(t3 - t2, 2), "total_seconds": round(t3 - t0, 2)}  # fmt: skip


def summarize(searches: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    """p95 of first results and the slowest complete result, per typing speed."""
    out = {}
    for delay in sorted({int(s["typing_delay_ms"]) for s in searches}):  # type: ignore[call-overload]
        rows = [s for s in searches if s["typing_delay_ms"] == delay]
        first = sorted(float(s["first_results_ms"]) for s in rows)  # type: ignore[arg-type]
        done = [float(s["all_results_after_last_key_ms"]) for s in rows]  # type: ignore[arg-type]
        out[f"{delay} ms/key"] = {
            "queries": len(rows), "first_results_p95_ms": first[math.ceil(len(first) * 0.95) - 1],
            "complete_after_last_key_max_ms": max(done),
            "bytes_max": max(int(s["bytes"]) for s in rows),  # type: ignore[call-overload]
        }  # fmt: skip
    return out


def run(n: int, work: Path, search: bool = True, compare: bool = True) -> dict[str, object]:
    t0 = time.perf_counter()
    catalog = synthetic_catalog(n)
    declare_s = time.perf_counter() - t0
    out = work / f"site{n}"
    CALLS["n"] = 0
    load_before = os.getloadavg()[0]
    cpu0 = _cpu()
    t1 = time.perf_counter()
    with Memory() as mem:
        report = build_site([(catalog, "bench.synthetic:catalog")], out, progress=False)
    build_s = time.perf_counter() - t1
    cpu_s = _cpu() - cpu0
    assert CALLS["n"] <= n, "a table function was called more than once (lineage needs one plan)"
    assert report.tables == n
    assert not report.failed
    print(f"  build {build_s:.1f} s", file=sys.stderr, flush=True)
    size, files = dir_size(out)
    index_size, index_files = dir_size(out / "search")
    pagefind = plain_pagefind(out, work) if compare else {}
    pages = [p for p in (out / catalog.name / "db000").glob("*.html") if p.name != "index.html"]
    largest = max(p.stat().st_size for p in pages)
    some = pages[len(pages) // 2].stem
    searches: list[dict[str, object]] = []
    if search:
        queries = query_set(n, some, pages[len(pages) // 3].stem)
        searches = measure_search(out, queries)
        # a person typing: every prefix of the word starts a search that must not delay the last
        searches += measure_search(out, queries, delay=150)
    incremental = {}
    for label, changed in (("unchanged", None), ("one description changed", n // 2)):
        again = synthetic_catalog(n, changed=changed)
        load = os.getloadavg()[0]
        cpu0 = _cpu()
        t2 = time.perf_counter()
        rebuilt = build_site([(again, "bench.synthetic:catalog")], out, progress=False)
        seconds = time.perf_counter() - t2
        incremental[label] = {"seconds": round(seconds, 2), "cpu_seconds": round(_cpu() - cpu0, 1),
                              "load_average_before": round(load, 1), "rendered": rebuilt.rendered,
                              "search_reused": rebuilt.search_reused,
                              "search_updated": rebuilt.search_updated}  # fmt: skip
        print(f"  rebuild ({label}) {seconds:.1f} s, {rebuilt.rendered} rendered",
              file=sys.stderr, flush=True)  # fmt: skip
    floor = rebuild_floor(again)
    result = {
        "tables": n, "declare_seconds": round(declare_s, 2), "build_seconds": round(build_s, 2),
        "build_cpu_seconds": round(cpu_s, 1), "load_average_before": round(load_before, 1),
        "build_peak_mb": mem.mb, "output_bytes": size, "output_files": files,
        "index_bytes": index_size, "index_files": index_files,
        "largest_table_page_bytes": largest, "plain_pagefind": pagefind, "searches": searches,
        "search_summary": summarize(searches) if searches else {}, "incremental": incremental,
        "rebuild_floor": floor,
    }  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    return result


NOTES = """
Notes:

- Search index: `neuralake.export.site.terms` (its docstring has the format). Each table page's
  search document is made from its facts in the renderer; word keys go into a prefix tree of
  gzip-compressed JSON nodes (`search/terms/`), records of results into files of 32 pages
  (`search/docs/`). A search fetches the name-index shard, one or two tree nodes per word and
  the records of the results it shows, and ranks in `assets/search-worker.js`.
- Pages render in one forked process per core (two here); the main process describes the tables
  and files each page's words as it arrives, then writes the index itself (forked writers
  held 440-690 MB of private memory at 100,000 tables, for about 3 s saved).
- The rebuild floor is what any rebuild that must equal a full build does with every table
  before it can reuse anything: the bench's functions return an empty plan, so a real
  catalog's lineage costs more.
- Build memory is this process's RSS plus the renderers' own pages (USS); plain Pagefind's is
  its RSS (see `Memory`).
- "Plain Pagefind" indexes the same written site with `pagefind --site` (1.5, whole pages),
  which is what the site shipped before; its search is not measured here.
- Before the site's own index (same machine, the previous run of this file, Pagefind 1.5
  streamed from the renderer plus build-time page sets for common words): 10,000 tables 30.9 s
  wall / 41.4 s CPU, 100,000 tables 385.1 s / 558.3 s CPU, 2.5 GB in the main process and
  6.4 GB in Pagefind's service; first results p95 at 100,000 tables 1,198 ms (0 ms/key) and
  1,659 ms (150 ms/key); complete results at most 765 / 940 ms after the last key.
- The machine is shared: wall-clock times carry the load average shown in each row.
"""


def _search_fate(rebuild: dict[str, Any]) -> str:
    if rebuild["search_reused"]:
        return "kept"
    return "updated" if rebuild.get("search_updated") else "written whole"


def write_results(results: list[dict[str, object]]) -> None:
    """Write results.json/md, keeping earlier runs of sizes not measured this time."""
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": sys.version.split()[0],
    }
    try:
        old = json.loads((HERE / "results.json").read_text())["runs"]
    except (OSError, ValueError, KeyError):
        old = []
    sizes = {r["tables"] for r in results}
    for r in results:  # a run without browser searches keeps the last measured ones
        if not r["searches"]:
            earlier = [o for o in old if o["tables"] == r["tables"] and o.get("searches")]
            if earlier:
                r["searches"] = earlier[0]["searches"]
                r["searches_from"] = "an earlier run (searches skipped this time)"
    results = sorted(
        [*[r for r in old if r["tables"] not in sizes], *results],
        key=lambda r: r["tables"],  # type: ignore[arg-type,return-value]
    )
    (HERE / "results.json").write_text(json.dumps({"meta": meta, "runs": results}, indent=2) + "\n")
    lines = ["# Static site benchmark", "", f"Machine: {meta['machine']}, Python {meta['python']}.",
             "Command: `.venv/bin/python bench/site/bench_site.py`", "",
             "| tables | build wall (s) | build CPU (s) | build memory | load avg before | output "
             "| files | search index | largest table page | plain Pagefind: wall / CPU / memory |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in results:
        pf: dict[str, Any] = r.get("plain_pagefind") or {}  # type: ignore[assignment]
        plain = (f"{pf['seconds']} s / {pf['cpu_seconds']} s / {pf['peak_mb'] / 1e3:.1f} GB"
                 if "seconds" in pf else "not run")  # fmt: skip
        lines.append(f"| {r['tables']:,} | {r['build_seconds']} | {r.get('build_cpu_seconds')} "
                     f"| {float(r.get('build_peak_mb') or 0) / 1e3:.2f} GB "
                     f"| {r.get('load_average_before')} | {r['output_bytes'] / 1e6:.0f} MB "
                     f"| {r['output_files']:,} | {r.get('index_bytes', 0) / 1e6:.0f} MB "
                     f"({r.get('index_files', 0):,} files) "
                     f"| {r['largest_table_page_bytes'] / 1e3:.1f} KB | {plain} |")  # fmt: skip
    lines += ["", "Rebuild into the same folder (pages whose content key is unchanged are kept; "
              "the output equals a full build, see tests/site/test_site_incremental.py):", "",
              "| tables | rebuild | wall (s) | CPU (s) | load avg before | pages rendered "
              "| search index |", "|---:|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in results:
        for label, inc in (r.get("incremental") or {}).items():  # type: ignore[attr-defined]
            lines.append(f"| {r['tables']:,} | {label} | {inc['seconds']} | {inc['cpu_seconds']} "
                         f"| {inc['load_average_before']} | {inc['rendered']:,} "
                         f"| {_search_fate(inc)} |")  # fmt: skip
    lines += ["", "The least such a rebuild does with every table, each part timed alone in the same "
              "run (`rebuild_floor`): before any page is reused or written:", "",
              "| tables | lineage (every function called once) | column references "
              "| declarations hashed | total |", "|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in results:
        f: dict[str, Any] | None = r.get("rebuild_floor")  # type: ignore[assignment]
        if f:
            lines.append(f"| {r['tables']:,} | {f['lineage_seconds']} s | {f['references_seconds']} s "
                         f"| {f['declarations_seconds']} s | {f['total_seconds']} s |")  # fmt: skip
    lines += ["", "Search in headless Chromium (cold cache; first results = first keystroke to first "
              "rendered result; full-text done = until the ranked count is shown; for rows typed "
              "at 150 ms/key the last-key column is what a person waits; bytes = every response "
              "after typing started):", "",
              "| tables | query | typing (ms/key) | first results (ms) | full-text done (ms) "
              "| done after last key (ms) | name hits | transferred | requests | status |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in results:
        for s in r["searches"]:  # type: ignore[union-attr]
            lines.append(f"| {r['tables']:,} | `{s['query']}` | {s.get('typing_delay_ms', 0)} "
                         f"| {s['first_results_ms']} | {s.get('all_results_ms', '')} "
                         f"| {s.get('all_results_after_last_key_ms', '')} "
                         f"| {s.get('name_hits', '')} "
                         f"| {s['bytes'] / 1e3:.0f} KB | {s['requests']} | {s['status']} |")  # fmt: skip
    lines += ["", "Search summary (every query above; complete = after the last key until the "
              "ranked count shows):", "",
              "| tables | typing | queries | first results p95 (ms) | complete max (ms) "
              "| transferred max |", "|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    for r in results:
        for label, v in (r.get("search_summary") or {}).items():  # type: ignore[attr-defined]
            lines.append(f"| {r['tables']:,} | {label} | {v['queries']} | {v['first_results_p95_ms']} "
                         f"| {v['complete_after_last_key_max_ms']} | {v['bytes_max'] / 1e3:.0f} KB |")  # fmt: skip
    (HERE / "results.md").write_text("\n".join(lines) + "\n" + NOTES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="skip the browser searches (keeps the last run's search rows)",
    )
    parser.add_argument("--no-pagefind", action="store_true",
                        help="skip indexing the same pages with plain Pagefind")  # fmt: skip
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for n in args.sizes:
            print(f"building {n:,} tables…", file=sys.stderr, flush=True)
            results.append(
                run(n, Path(tmp), search=not args.no_search, compare=not args.no_pagefind)
            )
            print(json.dumps(results[-1], indent=2), file=sys.stderr, flush=True)
            write_results(results)


if __name__ == "__main__":
    main()
