"""Shared benchmark helpers: data preparation, paired timing, machine info and result files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO_ROOT = BENCH.parent
DATA = BENCH / "data"
RESULTS = BENCH / "results"
SCALE = 1.0

#: Every measurement: one warm-up per side, then at least MIN_REPEAT paired runs; fast cases
#: keep going (up to MAX_REPEAT) until the slower side has run for MIN_SECONDS in total, so
#: medians of millisecond-scale queries are not one scheduler hiccup away from another ratio.
WARMUP = 1
MIN_REPEAT = 5
MAX_REPEAT = 41
MIN_SECONDS = 1.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_tpch(scale: float = SCALE) -> Path:
    """The TPC-H lake under ``bench/data/lake`` (generated once with tpchgen-cli, then reused)."""
    from examples.tpch.generate import generate

    lake = DATA / "lake"
    info = generate(lake, scale, progress=sys.stderr.isatty())
    if info["generated"]:
        log(f"generated TPC-H SF{scale:g} in {lake} ({info['seconds']:.1f}s)")
    else:
        log(f"reusing TPC-H SF{scale:g} in {lake}")
    return lake


@dataclass
class Comparison:
    """Catalog path vs a raw-library baseline doing the same work (seconds, medians)."""

    case: str
    catalog: str
    baseline: str
    catalog_s: float
    baseline_s: float
    target: str
    ok: bool
    runs: int
    catalog_samples: list[float] = field(default_factory=list)
    baseline_samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.catalog_s / self.baseline_s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = round(self.ratio, 4)
        d["catalog_s"] = round(self.catalog_s, 6)
        d["baseline_s"] = round(self.baseline_s, 6)
        d["catalog_samples"] = [round(s, 6) for s in self.catalog_samples]
        d["baseline_samples"] = [round(s, 6) for s in self.baseline_samples]
        return d


def paired(
    catalog: Callable[[], Any],
    baseline: Callable[[], Any],
    *,
    check: Callable[[Any, Any], None] | None = None,
) -> tuple[list[float], list[float]]:
    """Time two callables alternately (ABBA order), after one warm-up each.

    ``check(catalog_result, baseline_result)`` runs on the warm-up results, so both sides are
    proven to compute the same answer before they are timed.
    """
    got, want = catalog(), baseline()
    for _ in range(WARMUP - 1):
        catalog(), baseline()
    if check is not None:
        check(got, want)
    cat: list[float] = []
    base: list[float] = []
    i = 0
    while i < MIN_REPEAT or (i < MAX_REPEAT and max(sum(cat), sum(base)) < MIN_SECONDS):
        order = ((catalog, cat), (baseline, base))
        for fn, out in order if i % 2 == 0 else reversed(order):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
        i += 1
    return cat, base


def compare(
    case: str,
    catalog: tuple[str, Callable[[], Any]],
    baseline: tuple[str, Callable[[], Any]],
    *,
    max_ratio: float | None = None,
    min_speedup: float | None = None,
    check: Callable[[Any, Any], None] | None = None,
    note: str = "",
) -> Comparison:
    """Run :func:`paired` and judge the medians against a target."""
    cat, base = paired(catalog[1], baseline[1], check=check)
    c, b = statistics.median(cat), statistics.median(base)
    if max_ratio is not None:
        target, ok = f"ratio <= {max_ratio:g}", c / b <= max_ratio
    elif min_speedup is not None:
        target, ok = f"catalog >= {min_speedup:g}x faster", b / c >= min_speedup
    else:
        target, ok = "informational", True
    result = Comparison(case, catalog[0], baseline[0], c, b, target, ok, len(cat), cat, base, note)
    log(
        f"  {case}: catalog {c * 1000:.2f} ms, baseline {b * 1000:.2f} ms, "
        f"ratio {result.ratio:.3f} ({target}: {'ok' if ok else 'MISSED'}; {len(cat)} runs)"
    )
    return result


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, OS, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for dist in ("neuralake", "polars", "deltalake", "pyarrow", "moto", "boto3", "tpchgen-cli"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        mem_gb = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cores": os.cpu_count(),
        "load_average_1_5_15min": load,
        "affinity_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "cpu": cpu,
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
            text=True, check=False, timeout=5,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def markdown_table(rows: Sequence[Comparison]) -> str:
    lines = [
        "| case | catalog | baseline | catalog ms | baseline ms | catalog/baseline "
        "| baseline/catalog | target | met | runs |",
        "|---|---|---|---:|---:|---:|---:|---|:---:|---:|",
    ]
    for r in rows:
        met = "yes" if r.ok else "**no**"
        if r.target == "informational":
            met = "-"
        lines.append(
            f"| {r.case} | `{r.catalog}` | `{r.baseline}` | {r.catalog_s * 1000:.2f} "
            f"| {r.baseline_s * 1000:.2f} | {r.ratio:.3f} | {1 / r.ratio:.2f}x | {r.target} "
            f"| {met} | {r.runs} |"
        )
    return "\n".join(lines)


def write_results(name: str, sections: dict[str, dict[str, Any]]) -> tuple[Path, Path]:
    """Write ``bench/results/<name>.json`` and ``<name>.md``.

    Each section is ``{"title", "rows": [Comparison], "notes": [...], "context": {...}}``.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    payload = {
        "format_version": 1,
        "generated_at": when,
        "machine": info,
        "method": {
            "warmup": WARMUP,
            "min_repeat": MIN_REPEAT,
            "max_repeat": MAX_REPEAT,
            "min_seconds_per_side": MIN_SECONDS,
            "statistic": "median, catalog and baseline runs interleaved in ABBA order",
        },
        "benchmarks": {
            key: {
                "title": s["title"],
                "context": s.get("context", {}),
                "notes": s.get("notes", []),
                "results": [r.to_dict() for r in s["rows"]],
            }
            for key, s in sections.items()
        },
    }
    json_path = RESULTS / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")

    v = info["versions"]
    md = [
        f"# neuralake benchmarks: {name}",
        "",
        f"Run {when} on {info['cores']} cores ({info['cpu']}), {info['memory_gb']} GB RAM, "
        f"Python {info['python']}, neuralake {v['neuralake']}, polars {v['polars']}, "
        f"deltalake {v['deltalake']}, pyarrow {v['pyarrow']}, moto {v['moto']}, "
        f"tpchgen-cli {v['tpchgen-cli']} (commit {info['git_commit']}). Load average when "
        f"written (1/5/15 min): {info['load_average_1_5_15min']}.",
        "",
        f"Method: {WARMUP} warm-up per side, then {MIN_REPEAT}-{MAX_REPEAT} runs per side "
        f"(until the slower side has run {MIN_SECONDS:g} s), catalog and baseline interleaved; "
        "times are medians.",
    ]
    for s in sections.values():
        md += ["", f"## {s['title']}", ""]
        md += [f"- {k}: {v}" for k, v in s.get("context", {}).items()]
        md += ["", markdown_table(s["rows"])]
        if s.get("notes"):
            md += [""] + [f"- {n}" for n in s["notes"]]
    md_path = RESULTS / f"{name}.md"
    md_path.write_text("\n".join(md) + "\n")
    return json_path, md_path


def summary(sections: dict[str, dict[str, Any]]) -> str:
    """A plain-text table for the terminal."""
    rows = [r for s in sections.values() for r in s["rows"]]
    width = max(len(r.case) for r in rows)
    head = f"{'case':<{width}}  {'catalog ms':>10}  {'baseline ms':>11}  {'cat/base':>8}  "
    out = [head + f"{'speedup':>8}  target"]
    for r in rows:
        verdict = "" if r.target == "informational" else f" [{'ok' if r.ok else 'MISSED'}]"
        out.append(
            f"{r.case:<{width}}  {r.catalog_s * 1000:>10.2f}  {r.baseline_s * 1000:>11.2f}  "
            f"{r.ratio:>8.3f}  {1 / r.ratio:>7.2f}x  {r.target}{verdict}"
        )
    return "\n".join(out)
