"""``catalog.sql(..., engine="daft")``: Daft's SQL engine over catalog tables, same sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from neuralake import Catalog, SQLError, SQLNotAllowedError, TableNotFoundError

REPO = Path(__file__).parents[2]
QUERIES = [
    # TPC-H Q6 and a Q1-like aggregate on lineitem
    """SELECT sum(l_extendedprice * l_discount) AS revenue FROM tpch.lineitem
       WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
         AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    """SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, count(*) AS n
       FROM tpch.lineitem WHERE l_shipdate <= '1998-09-02'
       GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus""",
    # a join of two catalog tables, a CTE, qualified and bare column names
    """WITH big AS (SELECT o_orderkey, o_custkey FROM tpch.orders WHERE o_totalprice > 100000)
       SELECT b.o_custkey, count(*) AS lines, sum(l.l_quantity) AS qty
       FROM big AS b JOIN tpch.lineitem AS l ON l.l_orderkey = b.o_orderkey
       GROUP BY b.o_custkey ORDER BY qty DESC, b.o_custkey LIMIT 10""",
    # WHERE conjuncts handed to the scan (qualified, OR, NOT, BETWEEN, IN) and the ones kept
    # for Daft's SQL alone (a cast column, a subquery, a table read twice)
    """SELECT count(*) AS n, sum(l.l_quantity) AS qty FROM tpch.lineitem AS l
       WHERE l.l_shipdate BETWEEN DATE '1995-01-01' AND '1995-06-30'
         AND (l.l_returnflag = 'R' OR NOT l_linestatus IN ('O'))
         AND CAST(l_quantity AS DOUBLE) > 10.5 AND l_comment IS NOT NULL""",
    """SELECT count(*) AS n FROM tpch.orders
       WHERE o_orderdate < DATE '1993-01-01' OR o_orderpriority = '1-URGENT'""",
    "SELECT count(*) AS n FROM tpch.orders WHERE o_orderdate < DATE '1993-01-01'",
    """SELECT o_orderpriority, count(*) AS n FROM tpch.orders
       WHERE o_orderdate >= DATE '1996-01-01' AND o_orderkey IN (
         SELECT l_orderkey FROM tpch.lineitem WHERE l_shipdate > DATE '1998-06-01')
       GROUP BY o_orderpriority ORDER BY o_orderpriority""",
    """SELECT count(*) AS n FROM tpch.orders AS a JOIN tpch.orders AS b
       ON a.o_custkey = b.o_custkey
       WHERE a.o_orderdate < DATE '1992-03-01' AND b.o_orderdate < DATE '1992-03-01'""",
]


def rows(frame: Any) -> pl.DataFrame:
    df = pl.from_arrow(frame.to_arrow())
    assert isinstance(df, pl.DataFrame)
    return df


@pytest.mark.parametrize(
    "query", QUERIES, ids=["q6", "q1", "join", "pushed", "or", "one", "subquery", "self-join"]
)
def test_queries_equal_the_polars_engine(demo_catalog: Catalog, query: str) -> None:
    got = rows(demo_catalog.sql(query, engine="daft"))
    want = demo_catalog.sql(query).collect()
    assert got.columns == want.columns
    assert_frame_equal(got, want, check_dtypes=False, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("query", "error", "match"),
    [
        ("SELECT * FROM read_parquet('/etc/passwd')", SQLNotAllowedError, "read_parquet"),
        ("SELECT * FROM '/etc/passwd'", SQLNotAllowedError, "catalog tables"),
        ("COPY (SELECT 1) TO '/tmp/x.csv'", SQLNotAllowedError, "COPY"),
        ("SELECT 1; SELECT 2", SQLNotAllowedError, "one query"),
        ("SELECT * FROM tpch.nope", TableNotFoundError, "tpch.nope"),
        ("SELECT * FROM secrets", TableNotFoundError, "secrets"),
        ("SELECT nope FROM tpch.nation", SQLError, "nope"),
        ("SELECT * FROM tpch.nation WHERE n_nationkey = 'one'", SQLError, "n_nationkey"),
    ],
)
def test_the_sandbox_guards_the_daft_engine(
    demo_catalog: Catalog, query: str, error: type[Exception], match: str
) -> None:
    secrets = pl.DataFrame({"k": ["hunter2"]})  # a local the query must never see
    with pytest.raises(error, match=match):
        rows(demo_catalog.sql(query, engine="daft"))
    del secrets


def test_file_functions_stay_off_on_daft(demo_catalog: Catalog) -> None:
    with pytest.raises(SQLNotAllowedError, match="allow_files"):
        demo_catalog.sql("SELECT 1", allow_files=True, engine="daft")


def test_cli_query_on_the_daft_engine(demo_lake: Path, ray_cluster: Any) -> None:
    env = {**os.environ, "NEURALAKE_DEMO_LAKE": str(demo_lake), "DAFT_PROGRESS_BAR": "0"}
    address = [] if ray_cluster is None else ["--ray-address", ray_cluster.address_info["address"]]
    done = subprocess.run(
        [sys.executable, "-m", "neuralake", "query", "--engine", "daft", *address,
         "--format", "csv", "SELECT n_name FROM tpch.nation WHERE n_nationkey < 3 ORDER BY 1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n_name", "ALGERIA", "ARGENTINA", "BRAZIL"]
    refused = subprocess.run(
        [sys.executable, "-m", "neuralake", "query", "--ray-address", "ray://127.0.0.1:1", "SELECT 1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--engine daft" in refused.stderr


def test_plain_where_conjuncts_reach_the_scan_as_typed_literals(demo_catalog: Catalog) -> None:
    """Daft's SQL planner keeps ``DATE '...'`` as a cast of a string; the plain conjuncts of a
    single-table WHERE are also handed to the scan, typed, so it can skip data by them."""
    import io

    frame = demo_catalog.sql(
        """SELECT count(*) AS n FROM tpch.lineitem AS l
           WHERE l.l_shipdate >= DATE '1995-01-01' AND CAST(l_quantity AS DOUBLE) > 1""",
        engine="daft",
    )
    plan = io.StringIO()
    frame.explain(show_all=True, file=plan)
    scan = plan.getvalue().split("== Optimized Logical Plan ==")[1]
    assert "col(l_shipdate) >= lit(1995-01-01)" in scan, scan
