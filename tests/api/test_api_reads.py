"""Rows through the API equal rows read through the catalog, for every table and format."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from neuralake import Catalog, Filter
from neuralake.api.snippets import rest_params, sql_for

ARROW = "application/vnd.apache.arrow.stream"

# (qualified name, API name, filters): each filter list uses only REST-expressible operators.
CASES = [
    ("shop.orders", "shop_orders", [Filter("o_year", "=", 2021), Filter("o_price", ">", 500.0)]),
    ("shop.orders", "shop_orders", [Filter("o_status", "=", "F"), Filter("o_key", "<", 100)]),
    ("shop.part", "shop_part", [Filter("p_size", "=", 3), Filter("p_brand", "=", "Brand#2")]),
    ("shop.part", "shop_part", [Filter("p_size", ">=", 5), Filter("p_key", "<", 200)]),
    ("shop.part_brand", "shop_part_brand", [Filter("p_brand", "=", "Brand#3")]),
    ("shop.supplier", "shop_supplier", [Filter("s_nation", "=", "PERU")]),
    ("shop.nation", "nations", [Filter("n_key", "<=", 1)]),
    ("shop.customer", "shop_customer", [Filter("c_segment", "=", "MACHINERY")]),
    ("shop.region", "shop_region", [Filter("r_name", "=", "ASIA")]),
]


def frame(content: bytes) -> pl.DataFrame:
    return pl.read_ipc_stream(io.BytesIO(content))


def conform(got: pl.DataFrame, expected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    got = got.select(expected.columns).cast(dict(expected.schema))
    return got.sort(got.columns), expected.sort(expected.columns)


def expected_rows(catalog: Catalog, qualified: str, filters: list[Filter]) -> pl.DataFrame:
    db, table = qualified.split(".")
    return catalog.db(db).table(table, filters=filters).collect()


@pytest.mark.parametrize(("qualified", "name", "filters"), CASES)
def test_rest_rows_equal_catalog_rows(
    api: Any, catalog: Catalog, qualified: str, name: str, filters: list[Filter]
) -> None:
    params = rest_params(filters)
    assert params is not None
    resp = api.get(f"/api/tables/{name}", params=params, headers={"Accept": ARROW})
    assert resp.status_code == 200, resp.text
    expected = expected_rows(catalog, qualified, filters)
    assert expected.height > 0
    got, want = conform(frame(resp.content), expected)
    assert_frame_equal(got, want)


@pytest.mark.parametrize(("qualified", "name", "filters"), CASES)
def test_sql_rows_equal_catalog_rows(
    api: Any, catalog: Catalog, qualified: str, name: str, filters: list[Filter]
) -> None:
    resp = api.post("/api/sql", content=sql_for(name, filters, 1_000), headers={"Accept": ARROW})
    assert resp.status_code == 200, resp.text
    got, want = conform(frame(resp.content), expected_rows(catalog, qualified, filters))
    assert_frame_equal(got, want)


def test_sql_operators_rest_cannot_express(api: Any, catalog: Catalog) -> None:
    filters = [Filter("o_status", "in", ["F", "P"]), Filter("o_year", "!=", 2020),
               Filter("o_key", "<", 300)]  # fmt: skip
    resp = api.post("/api/sql", content=sql_for("shop_orders", filters, 1_000),
                    headers={"Accept": ARROW})  # fmt: skip
    assert resp.status_code == 200, resp.text
    got, want = conform(frame(resp.content), expected_rows(catalog, "shop.orders", filters))
    assert_frame_equal(got, want)


def test_aggregate_over_one_partition(api: Any, catalog: Catalog) -> None:
    resp = api.post(
        "/api/sql",
        content="SELECT o_status, count(*) AS n, sum(o_price) AS total FROM shop_orders "
        "WHERE o_year = 2022 GROUP BY o_status ORDER BY o_status",
    )
    assert resp.status_code == 200, resp.text
    want = (
        expected_rows(catalog, "shop.orders", [Filter("o_year", "=", 2022)])
        .group_by("o_status")
        .agg(n=pl.len(), total=pl.col("o_price").sum())
        .sort("o_status")
    )
    got = pl.DataFrame(resp.json())
    assert got["o_status"].to_list() == want["o_status"].to_list()
    assert got["n"].to_list() == want["n"].to_list()
    assert got["total"].to_list() == pytest.approx(want["total"].to_list())


def test_columns_sort_and_limit(api: Any) -> None:
    resp = api.get(
        "/api/tables/shop_orders",
        params={
            "columns": "o_key,o_price",
            "sort": "-o_key",
            "limit": "5",
            "filter[o_year]": "2023",
        },
    )
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert [r["o_key"] for r in rows] == [1999, 1995, 1991, 1987, 1983]
    assert set(rows[0]) == {"o_key", "o_price"}


def test_row_limit_caps_rest_and_sql(api: Any) -> None:
    resp = api.get("/api/tables/shop_orders", params={"limit": "50000"})
    assert resp.status_code == 200
    assert len(resp.json()) == 1_000  # the guard's row limit
    resp = api.post("/api/sql", content="SELECT o_key FROM shop_orders ORDER BY o_key DESC")
    assert resp.status_code == 200
    rows = resp.json()
    assert len(rows) == 1_000
    assert rows[0]["o_key"] == 1999
    resp = api.post("/api/sql", content="SELECT o_key FROM shop_orders LIMIT 5000")
    assert resp.status_code == 400
    assert "row limit" in resp.json()["message"]


@pytest.mark.parametrize(
    ("accept", "read"),
    [
        ("application/json", lambda b: pl.read_json(io.BytesIO(b))),
        ("text/csv", lambda b: pl.read_csv(io.BytesIO(b))),
        ("application/vnd.apache.arrow.file", lambda b: pl.read_ipc(io.BytesIO(b))),
        (ARROW, lambda b: pl.read_ipc_stream(io.BytesIO(b))),
        ("application/parquet", lambda b: pl.read_parquet(io.BytesIO(b))),
    ],
)
def test_response_formats_by_accept_header(api: Any, accept: str, read: Any) -> None:
    resp = api.get("/api/tables/nations", params={"sort": "n_key"}, headers={"Accept": accept})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(accept)
    assert read(resp.content)["n_name"].to_list() == ["ALGERIA", "BRAZIL", "CHINA"]


def test_schema_and_openapi_list_every_table(api: Any) -> None:
    served = {"nations", "shop_customer", "shop_orders", "shop_part", "shop_part_brand",
              "shop_region", "shop_supplier"}  # fmt: skip
    schema = api.get("/api/schema").json()
    assert set(schema) == served
    doc = api.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {
        p.removeprefix("/api/tables/") for p in doc["paths"] if p.startswith("/api/tables/")
    } == served
    part = doc["components"]["schemas"]["shop_part"]
    assert set(part["properties"]) == {"p_key", "p_name", "p_size", "p_brand"}
    assert part["properties"]["p_key"]["type"] == "integer"
    params = {p["name"] for p in doc["paths"]["/api/tables/shop_part"]["get"]["parameters"]}
    assert {"columns", "sort", "limit", "filter[p_brand]"} <= params
    assert "/api/sql" in doc["paths"]


def test_unknown_table_and_parameter(api: Any) -> None:
    resp = api.get("/api/tables/shop_ordrs")
    assert resp.status_code == 404
    assert "shop_orders" in resp.json()["message"]
    resp = api.get("/api/tables/shop_orders", params={"filter[o_year]ne": "2020"})
    assert resp.status_code == 400
    resp = api.get("/api/tables/shop_orders", params={"format": "x"})
    assert resp.status_code == 400
