"""Benchmark: the delta-rs reader (tables with column mapping) against delta-rs' own query.

A copy of TPC-H SF1 ``lineitem`` is written once with ``delta.columnMapping.mode = name``, which
Polars' native Delta scan refuses, so the catalog serves it through delta-rs' scan. The
baseline is delta-rs doing the same query itself (``QueryBuilder``, DataFusion). Run from the
repository root::

    python -m bench.delta_fallback_bench
"""

from __future__ import annotations

from typing import Any

import polars as pl

from bench.common import DATA, compare, ensure_tpch, log, summary, write_results
from neuralake import Catalog, Database, Filter, NeuralakeDeltaTable


def _column_mapping_copy() -> str:
    """``lineitem`` rewritten with column mapping (once; reused by later runs)."""
    from deltalake import DeltaTable, write_deltalake

    target = DATA / "lake" / "tpch" / "lineitem_colmap"
    if not (target / "_delta_log").exists():
        source = ensure_tpch() / "tpch" / "lineitem"
        log(f"writing a column-mapping copy of {source} (once)")
        data = DeltaTable(str(source)).to_pyarrow_dataset()
        write_deltalake(
            str(target),
            data.scanner().to_reader(),
            partition_by=["l_shipyear"],
            configuration={"delta.columnMapping.mode": "name"},
        )
    return str(target)


def run() -> dict[str, Any]:
    from deltalake import DeltaTable, QueryBuilder

    path = _column_mapping_copy()
    table = NeuralakeDeltaTable("lineitem", path, partition_by=["l_shipyear"])
    catalog = Catalog({"tpch": Database([table])}, name="bench")
    reader = catalog.get_table("tpch.lineitem").inspect().reader
    cases = [
        ("sum(l_quantity), full table", None, "TRUE"),
        ("l_shipyear = 1995 (partition)", [Filter("l_shipyear", "=", 1995)], "l_shipyear = 1995"),
        ("l_orderkey < 1000 (file stats)", [Filter("l_orderkey", "<", 1000)], "l_orderkey < 1000"),
    ]

    def same(got: float, want: float) -> None:
        assert abs(got - want) < 1e-6 * max(1.0, abs(want)), (got, want)

    rows = []
    for case, filters, where in cases:

        def cat(filters: Any = filters) -> float:
            lf = catalog.table("tpch.lineitem", filters=filters, columns=["l_quantity"])
            return float(lf.select(pl.col("l_quantity").sum()).collect().item())

        def raw(where: str = where) -> float:
            query = f"SELECT sum(l_quantity) AS q FROM t WHERE {where}"
            batches = QueryBuilder().register("t", DeltaTable(path)).execute(query).read_all()
            return float(pl.DataFrame(batches).item())

        rows.append(
            compare(
                f"{case}, column mapping",
                (f"catalog.table('tpch.lineitem', filters={filters!r}) [{reader} reader]", cat),
                (f"QueryBuilder: SELECT sum(l_quantity) ... WHERE {where}", raw),
                check=same,
            )
        )
    return {
        "title": "Delta lineitem with column mapping (TPC-H SF1): the delta-rs reader",
        "context": {"table": path, "reader chosen from the protocol": reader},
        "notes": [
            "Polars' native Delta scan refuses column mapping; the catalog reads such tables "
            "through delta-rs' scan, with the column selection and the predicate pushed into it.",
        ],
        "rows": rows,
    }


def main() -> int:
    sections = {"delta_fallback": run()}
    json_path, md_path = write_results("delta-fallback", sections)
    print(summary(sections))
    print(f"results: {json_path} {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
