"""String literals compared with catalog columns are checked against the column's type, and
unaliased function columns get their SQL names."""

from __future__ import annotations

import datetime as dt
import decimal

import polars as pl
import pytest

from neuralake import Catalog, Database, FunctionTable, SQLError

from .lakes import Lake

TYPED = pl.DataFrame(
    {
        "k": [1, 2, 3],
        "amount": pl.Series([decimal.Decimal("1.50"), decimal.Decimal("2.00"), None]),
        "ok": [True, False, True],
        "at": [dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 2, 9), dt.datetime(2024, 1, 3)],
    }
)


def typed_catalog() -> Catalog:
    return Catalog({"db": Database([FunctionTable(lambda: TYPED.lazy(), name="t")])}, name="lit")


def ids(lake: Lake, where: str) -> list[int]:
    frame = lake.catalog.sql(f"SELECT o_id FROM shop.orders WHERE {where} ORDER BY o_id")
    return frame.collect()["o_id"].to_list()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("o_date > '2024-03-01'", [5, 6]),
        ("'2024-03-01' < o_date", [5, 6]),
        ("o_date BETWEEN '2024-02-01' AND '2024-02-28'", [2, 3]),
        ("o_date IN ('2024-01-05', '20241231')", [1, 6]),  # any ISO date, sent as YYYY-MM-DD
        ("o_date > DATE '2024-03-01'", [5, 6]),
        ("o_id = '3'", [3]),  # a number in quotes is compared as the number
        ("o_id IN ('1', '2')", [1, 2]),
        ("o_total >= '5'", [1, 2]),
        ("o_status = 'F'", [1, 3, 6]),  # string columns take any string
    ],
)
def test_valid_string_literals_compare_in_the_columns_type(
    lake: Lake, where: str, expected: list[int]
) -> None:
    assert ids(lake, where) == expected


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("o_id = 'abc'", r"column 'o_id' is Int64.*'abc'.*not an integer; write 1998 \(no quotes\)"),
        ("o_id = '1.0'", r"'o_id' is Int64.*not an integer"),
        ("o_total > 'lots'", r"column 'o_total' is Float64.*'lots'.*not a number"),
        ("o_date > '2024-13-01'", r"column 'o_date' is Date.*write DATE '1998-07-01' or '1998-07-01'"),
        ("o_date BETWEEN '2024-01-01' AND 'soon'", r"'o_date' is Date.*'soon'"),
        ("o_id IN (1, 'x')", r"'o_id' is Int64.*'x'"),
        ("o.o_id = 'x'", r"'o_id' is Int64"),
        ("o_id > 0 AND o_date < 'tomorrow'", r"'o_date' is Date.*'tomorrow'"),
    ],
)  # fmt: skip
def test_misfit_string_literals_are_refused_at_sql_time(
    lake: Lake, where: str, message: str
) -> None:
    query = f"SELECT o.o_id FROM shop.orders AS o WHERE {where}"
    with pytest.raises(SQLError, match=message):
        lake.catalog.sql(query)


def test_columns_traced_through_ctes_subqueries_and_joins(lake: Lake) -> None:
    for query in (
        "WITH recent AS (SELECT o_id, o_date AS day FROM shop.orders) "
        "SELECT o_id FROM recent WHERE day > 'later'",
        "SELECT o_id FROM (SELECT * FROM shop.orders) AS s WHERE s.o_date > 'later'",
        "SELECT o_id FROM shop.orders o JOIN shop.customers c ON o.o_cust = c.c_id "
        "WHERE o.o_date > 'later'",
        "SELECT o_id FROM shop.orders JOIN shop.customers ON o_cust = c_id WHERE o_date > 'later'",
        "SELECT o_id FROM shop.orders WHERE o_id IN "
        "(SELECT o_id FROM shop.orders WHERE o_date > 'later')",
    ):
        # the column is named as the query spells it where the literal meets it
        with pytest.raises(SQLError, match=r"'(day|o_date)' is Date.*'later'"):
            lake.catalog.sql(query)
    got = lake.catalog.sql(
        "WITH recent AS (SELECT o_id, o_date AS day FROM shop.orders) "
        "SELECT o_id FROM recent WHERE day >= '2024-12-01'"
    )
    assert got.collect()["o_id"].to_list() == [6]


def test_decimal_boolean_and_datetime_literals() -> None:
    catalog = typed_catalog()

    def keys(where: str) -> list[int]:
        frame = catalog.sql(f"SELECT k FROM db.t WHERE {where} ORDER BY k")
        return frame.collect()["k"].to_list()

    assert keys("amount > '1.5'") == [2]
    assert keys("ok = 'true'") == [1, 3]
    assert keys("at >= '2024-01-02 09:00:00'") == [2, 3]
    assert keys("at < '2024-01-02T00:00'") == [1]
    for where, message in (
        ("amount > 'x'", r"'amount' is Decimal.*not a number"),
        ("ok = 'yes'", r"'ok' is Boolean.*write TRUE or FALSE"),
        ("at > 'noon'", r"'at' is Datetime.*TIMESTAMP '1998-07-01 12:00:00'"),
    ):
        with pytest.raises(SQLError, match=message):
            catalog.sql(f"SELECT k FROM db.t WHERE {where}")


def test_unaliased_function_columns_get_sql_names(lake: Lake) -> None:
    # DuckDB names count(*) "count_star()"; the SQL spelling "count(*)" is used instead.
    frame = lake.catalog.sql(
        "SELECT o_cust, count(*), sum(o_total), max(o_date) AS last, count(DISTINCT o_status) "
        "FROM shop.orders GROUP BY o_cust ORDER BY count(*) DESC, o_cust"
    ).collect()
    assert frame.columns == [
        "o_cust",
        "count(*)",
        "sum(o_total)",
        "last",
        "count(DISTINCT o_status)",
    ]
    assert frame.row(0) == (10, 3, 10.5, dt.date(2024, 12, 31), 1)
    assert lake.catalog.sql("SELECT COUNT(*) FROM shop.orders").collect().columns == ["count(*)"]
    both = lake.catalog.sql("SELECT o_total, round(o_total) FROM shop.orders").collect_schema()
    assert both.names() == ["o_total", "round(o_total)"]  # no clash with the input column
