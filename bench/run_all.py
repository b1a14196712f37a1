"""Run every benchmark and write ``bench/results/results.json`` and ``results.md``.

Run from the repository root (about 2-4 minutes once the SF1 data exists; generating it with
tpchgen-cli adds ~20 s the first time)::

    python -m bench.run_all              # everything
    python -m bench.run_all delta s3     # a subset (written to results-delta-s3.*)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from bench import (
    daft_bench,
    delta_bench,
    delta_fallback_bench,
    facts_bench,
    import_bench,
    s3_bench,
)
from bench.common import log, summary, write_results

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "delta": delta_bench.run,
    "delta_fallback": delta_fallback_bench.run,
    "facts": facts_bench.run,
    "s3": s3_bench.run,
    "import": import_bench.run,
    "daft": daft_bench.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the neuralake benchmarks.")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    start = time.perf_counter()
    sections = {}
    for name in names:
        log(f"== {name}")
        sections[name] = BENCHMARKS[name]()
    # A subset must not overwrite the full results file.
    stem = "results" if set(names) == set(BENCHMARKS) else "results-" + "-".join(names)
    json_path, md_path = write_results(stem, sections)
    print(summary(sections))
    seconds = time.perf_counter() - start
    print(f"\nresults: {json_path}, {md_path} ({seconds:.0f}s)")
    missed = [r.case for s in sections.values() for r in s["rows"] if not r.ok]
    if missed:
        print(f"targets missed: {'; '.join(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
