"""Benchmark 1: Delta ``lineitem`` (TPC-H SF1, partitioned by ship year), catalog vs ``pl.scan_delta``.

Run from the repository root::

    python -m bench.delta_bench
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
from examples.tpch.tables import LINEITEM_SCHEMA

from bench.common import Comparison, compare, ensure_tpch, log, summary, write_results
from neuralake import Catalog, Database, Filter, NeuralakeDeltaTable

MAX_RATIO = 1.10


def run() -> dict[str, Any]:
    lake = ensure_tpch()
    path = str((lake / "tpch" / "lineitem").absolute())
    lineitem = NeuralakeDeltaTable(
        "lineitem", path, schema=LINEITEM_SCHEMA, partition_by=["l_shipyear"]
    )
    # The demo catalog's declaration: unique_columns makes every read keep one row per key.
    lineitem_dedup = NeuralakeDeltaTable(
        "lineitem_dedup", path, schema=LINEITEM_SCHEMA, partition_by=["l_shipyear"],
        unique_columns=["l_orderkey", "l_linenumber"],
    )  # fmt: skip
    catalog = Catalog({"tpch": Database([lineitem, lineitem_dedup])}, name="bench")
    total = pl.col("l_quantity").sum()
    cases = [
        ("a) sum(l_quantity), full table", None, None),
        ("b) l_shipyear = 1995 (partition)", [Filter("l_shipyear", "=", 1995)],
         ("pl.col('l_shipyear') == 1995", pl.col("l_shipyear") == 1995)),
        ("c) l_orderkey < 1000 (file stats)", [Filter("l_orderkey", "<", 1000)],
         ("pl.col('l_orderkey') < 1000", pl.col("l_orderkey") < 1000)),
    ]  # fmt: skip

    def same(got: pl.DataFrame, want: pl.DataFrame) -> None:
        assert got.equals(want), (got, want)

    def measure(
        case: str,
        table: str,
        filters: list[Filter] | None,
        raw_filter: tuple[str, pl.Expr] | None,
        **kw: Any,
    ) -> Comparison:
        expr_text, expr = raw_filter or (None, None)

        def raw() -> pl.DataFrame:
            lf = pl.scan_delta(path)
            return (lf if expr is None else lf.filter(expr)).select(total).collect()

        def cat() -> pl.DataFrame:
            lf = catalog.table(table, filters=filters, columns=["l_quantity"])
            return lf.select(total).collect()

        where = "" if expr_text is None else f".filter({expr_text})"
        given = "" if filters is None else f"filters=[{_short(filters)}], "
        return compare(
            case,
            (f"catalog.table('{table}', {given}columns=['l_quantity']).select(sum).collect()", cat),
            (f"pl.scan_delta(path){where}.select(sum).collect()", raw),
            check=same,
            **kw,
        )

    log(f"Delta lineitem at {path}")
    rows = [measure(c, "tpch.lineitem", f, e, max_ratio=MAX_RATIO) for c, f, e in cases]
    # Informational: the same queries on a declaration with unique_columns (the demo's).
    rows += [measure(f"{c} + unique_columns", "tpch.lineitem_dedup", f, e) for c, f, e in cases]
    year = [Filter("l_shipyear", "=", 1995)]
    pruned = _scanned_files(catalog.table("tpch.lineitem", filters=year).explain())
    dedup = _scanned_files(catalog.table("tpch.lineitem_dedup", filters=year).explain())
    n_files = _files(path)
    return {
        "title": "Delta lineitem (TPC-H SF1, ~6M rows, partitioned by l_shipyear)",
        "context": {
            "table": "tpch/lineitem (Delta, partition_by l_shipyear, ~16 MB files)",
            "data files": n_files,
            "files scanned for l_shipyear = 1995": f"{pruned} (with unique_columns: {dedup})",
            "target": f"catalog/raw <= {MAX_RATIO}",
        },
        "notes": [
            "Rows a-c read a declaration without unique_columns, i.e. the same work as the raw "
            "scan; the last three rows read the demo declaration (unique_columns on "
            "l_orderkey, l_linenumber), where every read keeps one row per key.",
            "With unique_columns, a filter on a non-key column (l_shipyear) is applied after "
            "the de-duplication, so it cannot reach the scan: "
            + (
                "partition pruning still happens."
                if dedup == pruned
                else f"{dedup} of {n_files} files are read instead of {pruned} (no partition "
                "pruning). Filters on the key columns (l_orderkey) are still pushed below the "
                "de-duplication by Polars, so case c) keeps its file skipping."
            ),
        ],
        "rows": rows,
    }


def _scanned_files(plan: str) -> int:
    """Data files in the plan's scan: ``SCAN [first, ... N other sources]``."""
    m = re.search(r"SCAN \[[^\]]*?(?:\.\.\. (\d+) other sources)?\]", plan)
    return 0 if m is None else 1 + int(m.group(1) or 0)


def _files(path: str) -> int:
    from deltalake import DeltaTable

    return len(DeltaTable(path).file_uris())


def _short(filters: list[Filter] | None) -> str:
    return ", ".join(f"Filter({f.column!r}, {f.op!r}, {f.value!r})" for f in filters or [])


def main() -> int:
    section = run()
    sections = {"delta": section}
    json_path, md_path = write_results("delta", sections)
    print(summary(sections))
    print(f"results: {json_path} {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
