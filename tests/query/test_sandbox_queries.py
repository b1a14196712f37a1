"""Allowed catalog SQL (joins, CTEs, window functions, aggregates, CASE, casts, comments,
string and date functions) returns the same rows as the equivalent Polars code, and the engine
receives the query regenerated from the checked tree."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlglot import exp

from neuralake.query.sandbox import check_query, engine_sql

from .lakes import Lake

# -- allowed queries return what the equivalent Polars code returns ------------------------------

Frames = Callable[[pl.LazyFrame, pl.LazyFrame], pl.LazyFrame]


def _not_ordered_by(o: pl.LazyFrame, c: pl.LazyFrame) -> pl.LazyFrame:
    custs = o.select("o_cust").collect()["o_cust"].to_list()
    return pl.concat(
        [c.filter(~pl.col("c_id").is_in(custs)).select("c_id"),
         o.filter(pl.col("o_total") > 7).select(c_id=pl.col("o_cust"))]
    ).sort("c_id")  # fmt: skip


ALLOWED: list[tuple[str, str, Frames]] = [
    (
        "join-aggregate",
        "SELECT c.c_name, SUM(o.o_total) AS total, COUNT(*) AS n FROM shop.orders o "
        "JOIN shop.customers c ON o.o_cust = c.c_id GROUP BY c.c_name ORDER BY c.c_name",
        lambda o, c: (
            o.join(c, left_on="o_cust", right_on="c_id")
            .group_by("c_name")
            .agg(total=pl.col("o_total").sum(), n=pl.len())
            .sort("c_name")
        ),
    ),
    (
        "cte",
        "WITH big AS (SELECT o_id, o_total FROM shop.orders WHERE o_total > 2.5) "
        "SELECT o_id FROM big ORDER BY o_id",
        lambda o, c: o.filter(pl.col("o_total") > 2.5).select("o_id").sort("o_id"),
    ),
    (
        "window",
        "SELECT o_id, ROW_NUMBER() OVER (PARTITION BY o_cust ORDER BY o_total DESC) AS rn, "
        "RANK() OVER (ORDER BY o_cust) AS rk, "
        "LAG(o_total) OVER (PARTITION BY o_cust ORDER BY o_id) AS prev "
        "FROM shop.orders ORDER BY o_id",
        lambda o, c: (
            o.sort("o_id")
            .select(
                "o_id",
                rn=pl.col("o_total").rank("ordinal", descending=True).over("o_cust"),
                rk=pl.col("o_cust").rank("min"),
                prev=pl.col("o_total").shift(1).over("o_cust"),
            )
            .sort("o_id")
        ),
    ),
    (
        "aggregates",
        "SELECT COUNT(DISTINCT o_cust) AS custs, AVG(o_total) AS mean, MIN(o_total) AS lo, "
        "MAX(o_total) AS hi, MEDIAN(o_total) AS med, STDDEV(o_total) AS sd FROM shop.orders",
        lambda o, c: o.select(
            custs=pl.col("o_cust").n_unique(),
            mean=pl.col("o_total").mean(),
            lo=pl.col("o_total").min(),
            hi=pl.col("o_total").max(),
            med=pl.col("o_total").median(),
            sd=pl.col("o_total").std(),
        ),
    ),
    (
        "group-having",
        "SELECT o_cust, SUM(o_total) AS t FROM shop.orders GROUP BY o_cust "
        "HAVING SUM(o_total) > 5 ORDER BY o_cust",
        lambda o, c: (
            o.group_by("o_cust")
            .agg(t=pl.col("o_total").sum())
            .filter(pl.col("t") > 5)
            .sort("o_cust")
        ),
    ),
    (
        "case",
        "SELECT o_id, CASE WHEN o_total >= 5 THEN 'big' WHEN o_total >= 3 THEN 'mid' "
        "ELSE 'small' END AS size FROM shop.orders ORDER BY o_id",
        lambda o, c: o.sort("o_id").select(
            "o_id",
            size=pl.when(pl.col("o_total") >= 5)
            .then(pl.lit("big"))
            .when(pl.col("o_total") >= 3)
            .then(pl.lit("mid"))
            .otherwise(pl.lit("small")),
        ),
    ),
    (
        "casts",
        "SELECT CAST(o_total AS INTEGER) AS t, o_id::VARCHAR AS s, "
        "TRY_CAST(o_status AS INTEGER) AS bad FROM shop.orders ORDER BY o_id",
        lambda o, c: o.sort("o_id").select(
            t=pl.col("o_total").cast(pl.Int32),
            s=pl.col("o_id").cast(pl.String),
            bad=pl.col("o_status").cast(pl.Int32, strict=False),
        ),
    ),
    (
        "comments",
        "SELECT o_id, -- the key\n /* and the total */ o_total FROM shop.orders "
        "/* a /* nested */ comment */ WHERE o_id < 3 -- small ones\nORDER BY o_id",
        lambda o, c: o.filter(pl.col("o_id") < 3).select("o_id", "o_total").sort("o_id"),
    ),
    (
        "strings",
        "SELECT c_id, LOWER(c_name) AS lo, UPPER(c_name) AS up, LENGTH(c_name) AS len, "
        "SUBSTR(c_name, 1, 2) AS sub, CONCAT(c_name, '!') AS cat, TRIM(c_name) AS tr, "
        "REPLACE(c_name, 'a', 'A') AS rep, STARTS_WITH(c_name, 'a') AS sw, "
        "ENDS_WITH(c_name, 'e') AS ew, LEFT(c_name, 1) AS l1, RIGHT(c_name, 1) AS r1, "
        "LPAD(TRIM(c_name), 6, '.') AS pad, REVERSE(c_name) AS rev, "
        "TRIM(BOTH ' ' FROM c_name) AS tr2, STRPOS(c_name, 'a') AS pos, "
        "INITCAP(TRIM(c_name)) AS cap, c_name || '?' AS pipe FROM shop.customers ORDER BY c_id",
        lambda o, c: c.sort("c_id").select(
            "c_id",
            lo=pl.col("c_name").str.to_lowercase(),
            up=pl.col("c_name").str.to_uppercase(),
            len=pl.col("c_name").str.len_chars(),
            sub=pl.col("c_name").str.slice(0, 2),
            cat=pl.col("c_name") + "!",
            tr=pl.col("c_name").str.strip_chars(),
            rep=pl.col("c_name").str.replace_all("a", "A", literal=True),
            sw=pl.col("c_name").str.starts_with("a"),
            ew=pl.col("c_name").str.ends_with("e"),
            l1=pl.col("c_name").str.head(1),
            r1=pl.col("c_name").str.tail(1),
            pad=pl.col("c_name").str.strip_chars().str.pad_start(6, "."),
            rev=pl.col("c_name").str.reverse(),
            tr2=pl.col("c_name").str.strip_chars(" "),
            pos=pl.col("c_name").str.find("a", literal=True).fill_null(-1) + 1,
            cap=pl.col("c_name").str.strip_chars().str.to_titlecase(),
            pipe=pl.col("c_name") + "?",
        ),
    ),
    (
        "regexp",
        "SELECT c_id FROM shop.customers WHERE c_name ~ '^[a-z]+$' "
        "OR REGEXP_LIKE(c_name, '^b', 'i') ORDER BY c_id",
        lambda o, c: (
            c.filter(
                pl.col("c_name").str.contains("^[a-z]+$") | pl.col("c_name").str.contains("(?i)^b")
            )
            .select("c_id")
            .sort("c_id")
        ),
    ),
    (
        "dates",
        "SELECT o_id, YEAR(o_date) AS y, MONTH(o_date) AS m, EXTRACT(day FROM o_date) AS d, "
        "DATE_TRUNC('month', o_date) AS month_start, STRFTIME(o_date, '%Y/%m') AS ym "
        "FROM shop.orders ORDER BY o_id",
        lambda o, c: o.sort("o_id").select(
            "o_id",
            y=pl.col("o_date").dt.year(),
            m=pl.col("o_date").dt.month(),
            d=pl.col("o_date").dt.day(),
            month_start=pl.col("o_date").dt.truncate("1mo"),
            ym=pl.col("o_date").dt.strftime("%Y/%m"),
        ),
    ),
    (
        "conditionals",
        "SELECT o_id, COALESCE(NULLIF(o_status, 'F'), 'final') AS st, "
        "GREATEST(o_total, 3) AS g, LEAST(o_total, 3) AS l, ROUND(o_total / 2, 1) AS half "
        "FROM shop.orders ORDER BY o_id",
        lambda o, c: o.sort("o_id").select(
            "o_id",
            st=pl.when(pl.col("o_status") == "F")
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col("o_status"))
            .fill_null("final"),
            g=pl.max_horizontal("o_total", pl.lit(3.0)),
            l=pl.min_horizontal("o_total", pl.lit(3.0)),
            half=(pl.col("o_total") / 2).round(1),
        ),
    ),
    (
        "subqueries-union",
        "SELECT c_id FROM shop.customers WHERE c_id NOT IN (SELECT o_cust FROM shop.orders) "
        "UNION ALL SELECT o_cust FROM shop.orders WHERE o_total > 7 ORDER BY 1",
        _not_ordered_by,
    ),
    (
        "scalar-subquery",
        "SELECT o_id FROM shop.orders WHERE o_total > (SELECT AVG(o_total) FROM shop.orders) "
        "ORDER BY o_id",
        lambda o, c: (
            o.filter(pl.col("o_total") > pl.col("o_total").mean()).select("o_id").sort("o_id")
        ),
    ),
    (
        "distinct-limit",
        "SELECT DISTINCT o_cust FROM shop.orders ORDER BY o_cust DESC LIMIT 2 OFFSET 1",
        lambda o, c: o.select("o_cust").unique().sort("o_cust", descending=True).slice(1, 2),
    ),
]


@pytest.mark.parametrize(
    ("query", "expected"), [a[1:] for a in ALLOWED], ids=[a[0] for a in ALLOWED]
)
def test_allowed_query_returns_the_polars_answer(lake: Lake, query: str, expected: Frames) -> None:
    got = lake.catalog.sql(query)
    assert isinstance(got, pl.LazyFrame)
    orders, customers = lake.catalog.table("shop.orders"), lake.catalog.table("shop.customers")
    assert_frame_equal(got.collect(), expected(orders, customers).collect(), check_dtypes=False)


def test_the_engine_gets_the_regenerated_query_without_comments() -> None:
    tree = check_query("SELECT lower(c_name) /* c */ AS n FROM shop.customers -- done")
    assert engine_sql(tree) == "SELECT LOWER(c_name) AS n FROM shop.customers"
    # Spellings Polars names differently are generated the way Polars reads them.
    text = engine_sql(check_query("SELECT s ~ 'a', string_to_array(s, ','), initcap(s) FROM t"))
    assert text == "SELECT REGEXP_LIKE(s, 'a'), STRING_TO_ARRAY(s, ','), INITCAP(s) FROM t"
    explain = check_query("EXPLAIN SELECT 1 -- c")
    assert isinstance(explain, exp.Command)
    assert engine_sql(explain) == "EXPLAIN SELECT 1"


def test_explain_plans_the_checked_query(lake: Lake) -> None:
    plan = lake.catalog.sql("EXPLAIN SELECT o_id FROM shop.orders WHERE o_total > 2").collect()
    assert plan.height >= 1
