"""Site build time with catalog facts (stats, schema history, lineage) against the commit before.

    .venv/bin/python bench/site/facts_build.py --tables 10000 --pairs 3 --base-rev 4fe0b20
    .venv/bin/python bench/site/facts_build.py --tables 100000 --pairs 1 --base-rev 4fe0b20
    .venv/bin/python bench/site/facts_build.py --tables 10000 --profile   # head build, cProfile

The base revision is checked out in a temporary git worktree (removed afterwards). Both trees
build the same synthetic catalog (``synthetic_catalog`` of this tree's ``bench_site.py``: function
tables with 20 declared columns) with the same virtualenv; each build runs in a fresh process
whose ``PYTHONPATH`` starts with that tree's ``src``. Runs are interleaved (base, head, base,
head, ...) because the machine is shared; the statistic is the median. CPU time counts the
build process and its finished children. Results are merged into
``facts_build.json`` / ``facts_build.md`` next to this file, keyed by table count.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGET_RATIO = 1.3
NOTES = """
Notes:

- Base `4fe0b20` is the parent of `b9549b7`, the first commit with table stats and schema
  history (lineage and previews came later); `83f5a91~2` is `b9549b7` itself, so it is not a
  before-facts tree.
- Head is the working tree at the time (commit `0f9420f` plus uncommitted `src/` changes being
  made alongside, none in the site builder or stats).
- What the head build does more per table: `stats()` (none for function tables), the lineage
  plan (each function is called once and its lazy plan read) and the facts sections of the page.
- The machine has 2 cores and was shared: other test suites ran during these builds. The load
  average includes the build itself (about 1.5 while it runs, with Pagefind on the second
  core). At 100,000 tables only one pair fitted the time budget (~20 min), and the head run
  started at load 12.9 (peaking above 20) against 2.6 for the base run, so its wall time is
  mostly waiting for a core: CPU seconds (lower for head there) are the better measure, and
  the 10,000-table pairs are the reliable ratio.
- These runs date from when Pagefind built the site's search index (its own process, the
  "finished children" above). The builder now writes its own index and renders pages in
  forked processes; `results.md` has its current times.
"""


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _synthetic_catalog(n: int) -> Any:
    """``synthetic_catalog`` from this tree's ``bench_site.py``, whichever ``neuralake`` runs."""
    spec = importlib.util.spec_from_file_location("bench_site", HERE / "bench_site.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.synthetic_catalog(n)


def child(tree: Path, n: int, work: Path, profile: Path | None) -> dict[str, Any]:
    """One build in this process (``neuralake`` imported from ``tree/src``)."""
    import neuralake
    from neuralake.export.site import build_site

    src = Path(neuralake.__file__).resolve()
    assert src.is_relative_to(tree.resolve() / "src"), f"neuralake imported from {src}"
    t0 = time.perf_counter()
    catalog = _synthetic_catalog(n)
    declare_s = time.perf_counter() - t0
    out = work / f"site{n}"
    cpu0, t1 = _cpu(), time.perf_counter()
    if profile is None:
        report = build_site([(catalog, "bench.synthetic:catalog")], out, progress=False)
    else:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        report = prof.runcall(
            build_site, [(catalog, "bench.synthetic:catalog")], out, progress=False
        )
        with profile.open("w") as fh:
            pstats.Stats(prof, stream=fh).sort_stats("cumulative").print_stats(25)
    build_s = time.perf_counter() - t1
    cpu_s = _cpu() - cpu0
    assert report.tables == n, report
    assert not report.failed, report
    files = sum(len(names) for _, _, names in os.walk(out))
    shutil.rmtree(out, ignore_errors=True)
    return {
        "build_seconds": round(build_s, 3),
        "build_cpu_seconds": round(cpu_s, 3),
        "declare_seconds": round(declare_s, 3),
        "output_files": files,
    }


def run_one(tree: Path, n: int, work: Path, profile: Path | None = None) -> dict[str, Any]:
    """A build of ``tree`` in a fresh interpreter; returns its timings and the load average."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(tree),
           "--tables", str(n), "--workdir", str(work)]  # fmt: skip
    if profile is not None:
        cmd += ["--profile-out", str(profile)]
    load = os.getloadavg()
    done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"build of {tree} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average_1min_before"] = round(load[0], 2)
    result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    return result


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def measure(n: int, pairs: int, base_rev: str, work: Path) -> dict[str, Any]:
    base_sha = _git("rev-parse", "--short", base_rev)
    head_sha = _git("rev-parse", "--short", "HEAD")
    tree = Path(tempfile.mkdtemp(prefix=f"nl-base-{base_sha}-"))
    tree.rmdir()
    _git("worktree", "add", "--detach", str(tree), base_rev)
    base: list[dict[str, Any]] = []
    head: list[dict[str, Any]] = []
    try:
        for i in range(pairs):
            for label, root, sink in (("base", tree, base), ("head", REPO, head)):
                r = run_one(root, n, work)
                sink.append(r)
                print(f"  pair {i + 1}/{pairs} {label}: {r['build_seconds']:.1f} s wall, "
                      f"{r['build_cpu_seconds']:.1f} s CPU, load {r['load_average_1min_before']}",
                      file=sys.stderr, flush=True)  # fmt: skip
    finally:
        _git("worktree", "remove", "--force", str(tree))
    summary = {
        side: {
            "build_seconds_median": _median(runs, "build_seconds"),
            "build_cpu_seconds_median": _median(runs, "build_cpu_seconds"),
        }
        for side, runs in (("base", base), ("head", head))
    }
    wall = summary["head"]["build_seconds_median"] / summary["base"]["build_seconds_median"]
    cpu = summary["head"]["build_cpu_seconds_median"] / summary["base"]["build_cpu_seconds_median"]
    loads = [r["load_average_1min_before"] for r in base + head]
    return {
        "tables": n,
        "pairs": pairs,
        "base_rev": base_sha,
        "head_rev": head_sha,
        **summary,
        "wall_ratio": round(wall, 3),
        "cpu_ratio": round(cpu, 3),
        "target_ratio": TARGET_RATIO,
        "met": wall <= TARGET_RATIO,
        "load_average_1min_range": [min(loads), max(loads)],
        "base_runs": base,
        "head_runs": head,
    }


def write(results: list[dict[str, Any]]) -> None:
    """Merge into facts_build.json (keyed by table count) and rewrite facts_build.md."""
    path = HERE / "facts_build.json"
    try:
        old = json.loads(path.read_text())["runs"]
    except (OSError, ValueError, KeyError):
        old = []
    sizes = {r["tables"] for r in results}
    runs = sorted(
        [*[r for r in old if r["tables"] not in sizes], *results], key=lambda r: r["tables"]
    )
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "method": "fresh process per build, base and head interleaved, medians; CPU = build "
        "process + finished children (Pagefind)",
    }
    path.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2) + "\n")
    lines = [
        "# Site build: with catalog facts vs before",
        "",
        f"Machine: {meta['machine']} (shared: other work was running), Python {meta['python']}.",
        "Base = the commit before table stats, schema history, lineage and previews; head = this "
        "tree. Same synthetic catalog (function tables, 20 declared columns, `bench_site.py`), same "
        "virtualenv, a fresh process per build, runs interleaved base/head; medians.",
        "",
        "| tables | pairs | base | head | base wall (s) | head wall (s) | wall ratio "
        "| base CPU (s) | head CPU (s) | CPU ratio | target | met | load avg (1 min) |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|:---:|---|",
    ]
    for r in runs:
        lo, hi = r["load_average_1min_range"]
        lines.append(
            f"| {r['tables']:,} | {r['pairs']} | `{r['base_rev']}` | `{r['head_rev']}` "
            f"| {r['base']['build_seconds_median']:.1f} | {r['head']['build_seconds_median']:.1f} "
            f"| {r['wall_ratio']:.2f} | {r['base']['build_cpu_seconds_median']:.1f} "
            f"| {r['head']['build_cpu_seconds_median']:.1f} | {r['cpu_ratio']:.2f} "
            f"| wall ratio <= {r['target_ratio']:g} | {'yes' if r['met'] else '**no**'} "
            f"| {lo:.1f}-{hi:.1f} |"
        )
    lines += ["", "Every run (wall s / CPU s, 1-min load average before -> after it):", ""]
    for r in runs:
        for side in ("base", "head"):
            cells = ", ".join(
                f"{x['build_seconds']:.1f}/{x['build_cpu_seconds']:.1f} "
                f"(load {x['load_average_1min_before']} -> {x['load_average_1min_after']})"
                for x in r[f"{side}_runs"]
            )
            lines.append(f"- {r['tables']:,} tables, {side}: {cells}")
    lines += [
        "",
        "Reproduce: `.venv/bin/python bench/site/facts_build.py --tables N --pairs K "
        "--base-rev REV` (`--report-only` rewrites this file from facts_build.json).",
    ]
    (HERE / "facts_build.md").write_text("\n".join(lines) + "\n" + NOTES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--base-rev", default="4fe0b20")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--profile", action="store_true", help="profile one head build instead")
    parser.add_argument("--report-only", action="store_true", help="rewrite facts_build.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.tables, args.workdir, args.profile_out)))
        return
    if args.report_only:
        write([])
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        if args.profile:
            out = HERE / f"facts_build_profile_{args.tables}.txt"
            r = run_one(REPO, args.tables, Path(tmp), profile=out)
            print(f"head build {r['build_seconds']:.1f} s under cProfile; top 25 in {out}")
            return
        print(f"building {args.tables:,} tables, {args.pairs} pairs…", file=sys.stderr, flush=True)
        result = measure(args.tables, args.pairs, args.base_rev, Path(tmp))
        write([result])
        print(json.dumps({k: v for k, v in result.items() if not k.endswith("_runs")}, indent=2))


if __name__ == "__main__":
    main()
