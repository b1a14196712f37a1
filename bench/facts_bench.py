"""Benchmark: table stats (rows, files, bytes, column min/max/nulls) of TPC-H SF1 ``lineitem``
from its Delta log, against delta-rs listing the add actions alone. Target: stats in at most
2 s. Run from the repository root::

    python -m bench.facts_bench
"""

from __future__ import annotations

from typing import Any

from bench.common import compare, ensure_tpch, summary, write_results
from neuralake import NeuralakeDeltaTable

TARGET_SECONDS = 2.0


def run() -> dict[str, Any]:
    from deltalake import DeltaTable

    path = str(ensure_tpch() / "tpch" / "lineitem")
    table = NeuralakeDeltaTable("lineitem", path, partition_by=["l_shipyear"])

    def stats() -> int:
        found = table.stats()
        assert found.columns, "no column profiles"
        return found.rows or 0

    def actions() -> int:
        rows = DeltaTable(path).get_add_actions(flatten=True).column("num_records")
        return int(sum(rows.to_pylist()))

    def same(got: int, want: int) -> None:
        assert got == want, (got, want)

    row = compare(
        "lineitem stats (rows, files, bytes, column profiles)",
        ("NeuralakeDeltaTable.stats()", stats),
        ("DeltaTable(path).get_add_actions(flatten=True)", actions),
        check=same,
        note=f"target: stats() <= {TARGET_SECONDS:g} s",
    )
    found = table.stats()
    return {
        "title": "Table stats from the Delta log (TPC-H SF1 lineitem)",
        "context": {
            "table": path,
            "rows": found.rows,
            "files": found.files,
            "source": found.source,
            "target seconds": TARGET_SECONDS,
            "met": row.catalog_s <= TARGET_SECONDS,
        },
        "notes": ["Metadata only: the log's add actions; no data file is opened."],
        "rows": [row],
    }


def main() -> int:
    sections = {"facts": run()}
    json_path, md_path = write_results("facts", sections)
    print(summary(sections))
    print(f"results: {json_path} {md_path}")
    ok = all(r.catalog_s <= TARGET_SECONDS for s in sections.values() for r in s["rows"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
