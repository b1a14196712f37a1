"""catalog.sql(): SQL over db.table names, planned lazily."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from neuralake import (
    Catalog,
    Database,
    DeprecatedTableWarning,
    FunctionTable,
    NeuralakeDeltaTable,
    NeuralakeError,
    ParquetTable,
    Partition,
    TableNotFoundError,
)
from neuralake.query.sql import SQLError, referenced_tables

ORDERS = pl.DataFrame(
    {"o_orderkey": [1, 2, 3, 4], "o_custkey": [10, 20, 10, 30], "o_total": [5.0, 7.5, 2.5, 1.0]}
)
CUSTOMERS = pl.DataFrame({"c_custkey": [10, 20, 30], "c_name": ["alice", "bob", "carol"]})


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(
        {
            "tpch": Database([FunctionTable(lambda: ORDERS.lazy(), name="orders")]),
            "crm": Database(
                [
                    FunctionTable(lambda: CUSTOMERS.lazy(), name="customers"),
                    FunctionTable(lambda: ORDERS.lazy(), name="orders"),
                    FunctionTable(lambda: CUSTOMERS.lazy(), name="legacy", deprecated="gone soon"),
                ]
            ),
            "broken": Database([ParquetTable("missing", "/nonexistent/neuralake/missing")]),
        }
    )


def test_join_across_databases_returns_lazyframe(catalog: Catalog) -> None:
    lf = catalog.sql(
        """
        SELECT c.c_name, SUM(o.o_total) AS total
        FROM tpch.orders AS o
        JOIN crm.customers AS c ON o.o_custkey = c.c_custkey
        GROUP BY c.c_name
        ORDER BY c.c_name
        """
    )
    assert isinstance(lf, pl.LazyFrame)
    assert lf.collect().rows() == [("alice", 7.5), ("bob", 7.5), ("carol", 1.0)]


def test_qualified_column_references(catalog: Catalog) -> None:
    lf = catalog.sql(
        "SELECT tpch.orders.o_orderkey, crm.customers.c_name FROM tpch.orders "
        "JOIN crm.customers ON tpch.orders.o_custkey = crm.customers.c_custkey "
        "WHERE tpch.orders.o_total > 2 ORDER BY 1"
    )
    assert lf.collect().rows() == [(1, "alice"), (2, "bob"), (3, "alice")]


def test_bare_name_when_unambiguous(catalog: Catalog) -> None:
    assert catalog.sql("SELECT COUNT(*) AS n FROM customers").collect()["n"].to_list() == [3]


def test_unknown_table_is_table_not_found(catalog: Catalog) -> None:
    with pytest.raises(TableNotFoundError, match=r"'tpch\.nope'.*known tables: .*crm\.customers"):
        catalog.sql("SELECT * FROM tpch.nope")
    with pytest.raises(TableNotFoundError, match="'nothing'"):
        catalog.sql("SELECT * FROM nothing")
    # An ambiguous bare name is not guessed.
    with pytest.raises(TableNotFoundError, match="'orders'"):
        catalog.sql("SELECT * FROM orders")


def test_bad_sql_is_a_neuralake_error(catalog: Catalog) -> None:
    with pytest.raises(SQLError, match="Cannot run SQL query"):
        catalog.sql("SELEC * FROM tpch.orders")
    with pytest.raises(NeuralakeError, match="no_such_column"):
        catalog.sql("SELECT no_such_column FROM tpch.orders")


def test_only_named_tables_are_opened(catalog: Catalog) -> None:
    # broken.missing has no data; a query that does not name it still runs.
    assert catalog.sql("SELECT MAX(o_total) AS m FROM tpch.orders").collect()["m"].to_list() == [
        7.5
    ]
    assert referenced_tables(catalog, "SELECT * FROM tpch.orders o JOIN customers c ON 1=1") == {
        "tpch.orders": "tpch.orders",
        "customers": "crm.customers",
    }


def test_deprecated_table_in_sql_warns(catalog: Catalog) -> None:
    with pytest.warns(DeprecatedTableWarning, match="crm.legacy"):
        lf = catalog.sql("SELECT * FROM crm.legacy")
    assert lf.collect().height == 3


def test_string_literals_are_data_not_sql(catalog: Catalog) -> None:
    lf = catalog.sql(
        "SELECT c_name FROM crm.customers WHERE c_name = 'x''; DROP TABLE crm.customers; --'"
    )
    assert lf.collect().height == 0
    assert catalog.sql("SELECT COUNT(*) AS n FROM crm.customers").collect()["n"].to_list() == [3]


def test_sql_over_parquet_and_delta(backend: Any) -> None:
    parts = pl.DataFrame({"p_partkey": [1, 2, 3], "p_brand": ["Brand#13", "Brand#21", "Brand#13"]})
    pq_uri = backend.write_hive_polars(parts, "part", ["p_brand"])
    lines = pl.DataFrame({"l_partkey": [1, 1, 2, 3], "l_qty": [5, 6, 7, 8]})
    dl_uri = backend.write_delta(lines, "lineitem")
    cat = Catalog(
        {
            "tpch": Database(
                [
                    ParquetTable("part", pq_uri, partitioning=[Partition("p_brand")]),
                    NeuralakeDeltaTable("lineitem", dl_uri),
                ]
            )
        },
        storage=backend.storage,
    )
    lf = cat.sql(
        "SELECT p.p_brand, SUM(l.l_qty) AS qty FROM tpch.lineitem l "
        "JOIN tpch.part p ON l.l_partkey = p.p_partkey GROUP BY p.p_brand ORDER BY p.p_brand"
    )
    assert isinstance(lf, pl.LazyFrame)
    assert lf.collect().rows() == [("Brand#13", 19), ("Brand#21", 7)]


def test_word_that_is_not_in_table_position_does_not_open_a_table(catalog: Catalog) -> None:
    # "missing" is also the name of a broken table; as a column alias it must not be opened.
    lf = catalog.sql("SELECT o_total AS missing FROM tpch.orders WHERE o_orderkey = 1")
    assert lf.collect()["missing"].to_list() == [5.0]
    assert referenced_tables(catalog, "SELECT customers FROM tpch.orders") == {
        "tpch.orders": "tpch.orders"
    }


def test_bare_names_in_comma_and_outer_joins(catalog: Catalog) -> None:
    lf = catalog.sql(
        "SELECT COUNT(*) AS n FROM tpch.orders o, customers c WHERE o.o_custkey = c.c_custkey"
    )
    assert lf.collect()["n"].to_list() == [4]
    lf = catalog.sql(
        'SELECT c.c_name, o.o_orderkey FROM "customers" c LEFT OUTER JOIN tpch.orders o '
        "ON o.o_custkey = c.c_custkey AND o.o_total > 5 ORDER BY c.c_name"
    )
    assert lf.collect().rows() == [("alice", None), ("bob", 2), ("carol", None)]


def test_cte_named_like_a_catalog_table_is_not_opened(catalog: Catalog) -> None:
    # "missing" is a broken catalog table; the CTE of that name shadows it.
    lf = catalog.sql(
        "WITH missing AS (SELECT o_orderkey FROM tpch.orders WHERE o_total > 2) "
        "SELECT COUNT(*) AS n FROM missing"
    )
    assert lf.collect()["n"].to_list() == [3]
    assert referenced_tables(catalog, "WITH Missing AS (SELECT 1 AS x) SELECT * FROM missing") == {}
    # Inside its own (non-recursive) definition the name is still the catalog table.
    query = "WITH customers AS (SELECT c_name FROM customers) SELECT * FROM customers"
    assert referenced_tables(catalog, query) == {"customers": "crm.customers"}
    assert catalog.sql(query).collect().height == 3


def test_quoted_db_and_table_reference(catalog: Catalog) -> None:
    lf = catalog.sql(
        'SELECT "crm"."customers".c_name FROM "crm"."customers" '
        'JOIN "tpch"."orders" o ON o.o_custkey = "crm"."customers".c_custkey '
        "WHERE o.o_orderkey = 2"
    )
    assert lf.collect().rows() == [("bob",)]
    assert referenced_tables(catalog, 'SELECT * FROM "crm"."customers", "tpch.orders"') == {
        "crm.customers": "crm.customers",
        "tpch.orders": "tpch.orders",
    }


def test_table_names_in_literals_and_comments_are_not_opened(catalog: Catalog) -> None:
    query = (
        "SELECT 'SELECT * FROM broken.missing' AS s, o_orderkey -- JOIN broken.missing\n"
        "FROM tpch.orders /* , missing */ WHERE o_orderkey = 1"
    )
    assert referenced_tables(catalog, query) == {"tpch.orders": "tpch.orders"}
    assert catalog.sql(query).collect().rows() == [("SELECT * FROM broken.missing", 1)]


def test_each_table_is_opened_once() -> None:
    calls: list[str] = []

    def customers() -> pl.LazyFrame:
        calls.append("customers")
        return CUSTOMERS.lazy()

    cat = Catalog({"crm": Database([FunctionTable(customers, name="customers")])})
    lf = cat.sql(
        "SELECT COUNT(*) AS n FROM crm.customers a JOIN Customers b ON a.c_custkey = b.c_custkey "
        "WHERE a.c_custkey IN (SELECT c_custkey FROM CRM.CUSTOMERS)"
    )
    assert lf.collect()["n"].to_list() == [3]
    assert calls == ["customers"]


def test_tables_in_subqueries_and_explain(catalog: Catalog) -> None:
    assert referenced_tables(
        catalog,
        "SELECT * FROM (SELECT * FROM tpch.orders) t WHERE EXISTS (SELECT 1 FROM customers)",
    ) == {"tpch.orders": "tpch.orders", "customers": "crm.customers"}
    assert catalog.sql("EXPLAIN SELECT * FROM crm.customers").collect().height >= 1
