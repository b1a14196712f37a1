"""Benchmark 3: ``python -c "import neuralake"`` vs ``python -c "import polars"``.

Each import runs in a fresh interpreter (``-c``), alternating the two, so both pay the same
interpreter start-up and file-cache state. Run from the repository root::

    python -m bench.import_bench
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import REPO_ROOT, Comparison, log, summary, write_results

RUNS = 21
MAX_RATIO = 1.3


def _time_import(module: str) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of ``python -c "import module"``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", f"import {module}"], cwd=REPO_ROOT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"python -c 'import {module}' exited with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _import_profile(module: str) -> tuple[float, list[tuple[str, int]]]:
    """``import module`` after polars (-X importtime): total ms and the 5 slowest modules by self time."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import polars; import {module}"],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    rows: list[tuple[str, int]] = []
    total = 0.0
    after_polars = False
    for line in run.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        self_us, cumulative, name = int(parts[0]), int(parts[1]), parts[2]
        if name.strip() == "polars" and not name.startswith("  "):
            after_polars = True
            continue
        if after_polars:
            rows.append((name.strip(), self_us))
            if name.strip() == module:
                total = cumulative / 1000
    return total, sorted(rows, key=lambda r: -r[1])[:5]


def run() -> dict[str, Any]:
    log(f"import time: {RUNS} fresh interpreters per module, alternating")
    for module in ("polars", "neuralake"):  # warm the file cache and any .pyc compilation
        _time_import(module)
    wall: dict[str, list[float]] = {"neuralake": [], "polars": []}
    cpu: dict[str, list[float]] = {"neuralake": [], "polars": []}
    for i in range(RUNS):
        for module in ("neuralake", "polars") if i % 2 == 0 else ("polars", "neuralake"):
            w, c = _time_import(module)
            wall[module].append(w)
            cpu[module].append(c)
    rows = []
    for kind, samples, target in (("wall clock", wall, True), ("CPU user+sys", cpu, False)):
        n, p = statistics.median(samples["neuralake"]), statistics.median(samples["polars"])
        rows.append(
            Comparison(
                f"import neuralake vs import polars ({kind})",
                "python -c 'import neuralake'",
                "python -c 'import polars'",
                n, p,
                f"ratio <= {MAX_RATIO:g}" if target else "informational",
                n / p <= MAX_RATIO or not target,
                RUNS, samples["neuralake"], samples["polars"],
            )
        )  # fmt: skip
        log(f"  {kind}: neuralake {n * 1000:.1f} ms, polars {p * 1000:.1f} ms, ratio {n / p:.3f}")
    total, slowest = _import_profile("neuralake")
    return {
        "title": "Import time (fresh interpreter, including Python start-up)",
        "context": {
            "runs per module": RUNS,
            "python": sys.executable.replace(str(REPO_ROOT), "."),
            "target": f"neuralake/polars <= {MAX_RATIO}",
        },
        "notes": [
            f"With polars already imported, `import neuralake` adds {total:.1f} ms "
            "(-X importtime); slowest modules by self time: "
            + ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in slowest),
            "The CPU-time row (user + system time of the child, from wait4) is much less "
            "sensitive than wall clock to other processes competing for the cores.",
        ],
        "rows": rows,
    }


def main() -> int:
    sections = {"import": run()}
    json_path, md_path = write_results("import", sections)
    print(summary(sections))
    print(f"results: {json_path} {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
