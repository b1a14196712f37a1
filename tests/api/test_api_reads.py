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

# (qualified name, filters): each filter list uses only REST-expressible operators.
CASES = [
    ("shop.orders", [Filter("o_year", "=", 2021), Filter("o_price", ">", 500.0)]),
    ("shop.orders", [Filter("o_status", "=", "F"), Filter("o_key", "<", 100)]),
    ("shop.orders", [Filter("o_year", "!=", 2021), Filter("o_key", ">=", 1900)]),
    ("shop.part", [Filter("p_size", "=", 3), Filter("p_brand", "=", "Brand#2")]),
    ("shop.part", [Filter("p_size", ">=", 5), Filter("p_key", "<", 200)]),
    ("shop.part_brand", [Filter("p_brand", "=", "Brand#3")]),
    ("shop.supplier", [Filter("s_nation", "=", "PERU")]),
    ("shop.nation", [Filter("n_key", "<=", 1)]),
    ("shop.customer", [Filter("c_segment", "=", "MACHINERY")]),
    ("shop.region", [Filter("r_name", "=", "ASIA")]),
]


def frame(content: bytes) -> pl.DataFrame:
    return pl.read_ipc_stream(io.BytesIO(content))


def conform(got: pl.DataFrame, expected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    got = got.select(expected.columns).cast(dict(expected.schema))
    return got.sort(got.columns), expected.sort(expected.columns)


def expected_rows(catalog: Catalog, qualified: str, filters: list[Filter]) -> pl.DataFrame:
    return catalog.table(qualified, filters=filters).collect()


@pytest.mark.parametrize(("qualified", "filters"), CASES, ids=[c[0] for c in CASES])
def test_rest_rows_equal_catalog_rows(
    api: Any, catalog: Catalog, qualified: str, filters: list[Filter]
) -> None:
    params = rest_params(filters)
    assert params is not None
    resp = api.get(f"/api/tables/{qualified}", params=params, headers={"Accept": ARROW})
    assert resp.status_code == 200, resp.text
    expected = expected_rows(catalog, qualified, filters)
    assert expected.height > 0
    assert_frame_equal(frame(resp.content), expected, check_row_order=False)


@pytest.mark.parametrize(("qualified", "filters"), CASES, ids=[c[0] for c in CASES])
def test_sql_rows_equal_catalog_rows(
    api: Any, catalog: Catalog, qualified: str, filters: list[Filter]
) -> None:
    db, table = qualified.split(".")
    text = sql_for(db, table, filters, 1_000)
    resp = api.post("/api/sql", content=text, headers={"Accept": ARROW})
    assert resp.status_code == 200, resp.text
    assert_frame_equal(frame(resp.content), catalog.sql(text).collect(), check_row_order=False)
    got, want = conform(frame(resp.content), expected_rows(catalog, qualified, filters))
    assert_frame_equal(got, want)


def test_sql_operators_rest_cannot_express(api: Any, catalog: Catalog) -> None:
    filters = [Filter("o_status", "in", ["F", "P"]), Filter("o_year", "!=", 2020),
               Filter("o_key", "<", 300)]  # fmt: skip
    assert rest_params(filters) is None
    resp = api.post("/api/sql", content=sql_for("shop", "orders", filters, 1_000),
                    headers={"Accept": ARROW})  # fmt: skip
    assert resp.status_code == 200, resp.text
    got, want = conform(frame(resp.content), expected_rows(catalog, "shop.orders", filters))
    assert_frame_equal(got, want)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT o_status, count(*) AS n, sum(o_price) AS total FROM shop.orders "
        "WHERE o_year = 2022 GROUP BY o_status ORDER BY o_status",
        "SELECT o_year, count(*) AS n FROM shop.orders GROUP BY 1 ORDER BY 1",  # ROAPI panicked
        "-- the busiest years\nSELECT o_year, count(*) AS n FROM shop.orders /* all */ "
        "GROUP BY o_year ORDER BY n DESC, o_year",
        "WITH big AS (SELECT * FROM shop.orders WHERE o_price > 2000) "
        "SELECT b.o_year, n.n_name FROM big b JOIN shop.nation n ON b.o_key % 3 = n.n_key "
        "ORDER BY b.o_key LIMIT 20",
        "SELECT r_name, upper(r_name) AS up FROM shop.region ORDER BY r_key",
        "SELECT o_key, rank() OVER (PARTITION BY o_year ORDER BY o_price DESC) AS r "
        "FROM shop.orders WHERE o_key < 50 ORDER BY o_key",
    ],
)
def test_sql_answers_equal_catalog_sql(api: Any, catalog: Catalog, text: str) -> None:
    resp = api.post("/api/sql", content=text, headers={"Accept": ARROW})
    assert resp.status_code == 200, resp.text
    assert_frame_equal(frame(resp.content), catalog.sql(text).collect())


def test_rest_values_are_typed_by_the_schema(api: Any, catalog: Catalog) -> None:
    """Dates, decimals and booleans come bare and are typed by the column (ROAPI failed here)."""
    import datetime as dt

    resp = api.get("/api/tables/shop.orders", headers={"Accept": ARROW},
                   params=[("filter[o_date]gt", "2023-07-01"), ("filter[o_key]lt", "1500")])  # fmt: skip
    assert resp.status_code == 200, resp.text
    want = catalog.table("shop.orders", filters=[Filter("o_date", ">", dt.date(2023, 7, 1)),
                                                 Filter("o_key", "<", 1500)]).collect()  # fmt: skip
    assert want.height > 0
    assert_frame_equal(frame(resp.content), want, check_row_order=False)
    bad = api.get("/api/tables/shop.orders", params={"filter[o_date]gt": "1998-13-01"})
    assert bad.status_code == 400
    assert "ISO date" in bad.json()["message"]


def test_columns_sort_and_limit(api: Any) -> None:
    resp = api.get(
        "/api/tables/shop.orders",
        params={"columns": "o_key,o_price", "sort": "-o_key", "limit": "5",
                "filter[o_year]": "2023"},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    rows = body["rows"]
    assert [r["o_key"] for r in rows] == [1999, 1995, 1991, 1987, 1983]
    assert set(rows[0]) == {"o_key", "o_price"}
    assert body["truncated"] is False  # cut by the caller's own limit, not the server's
    assert resp.headers["x-neuralake-truncated"] == "false"


def test_row_limit_is_explicit_for_rest_and_sql(api: Any) -> None:
    resp = api.get("/api/tables/shop.orders", params={"limit": "50000"})
    assert resp.status_code == 200
    body = resp.json()
    assert len(body["rows"]) == 1_000  # the server's row limit
    assert body["truncated"] is True
    assert body["row_limit"] == 1_000
    assert resp.headers["x-neuralake-truncated"] == "true"
    resp = api.post("/api/sql", content="SELECT o_key FROM shop.orders ORDER BY o_key DESC")
    assert resp.status_code == 200
    rows = resp.json()["rows"]
    assert len(rows) == 1_000
    assert rows[0]["o_key"] == 1999
    assert resp.headers["x-neuralake-truncated"] == "true"
    resp = api.post("/api/sql", content="SELECT o_key FROM shop.orders LIMIT 5000",
                    headers={"Accept": "text/csv"})  # fmt: skip
    assert resp.headers["x-neuralake-truncated"] == "true"
    assert len(resp.text.splitlines()) == 1_001  # header + the row limit
    exact = api.post("/api/sql", content="SELECT o_key FROM shop.orders LIMIT 1000")
    assert exact.json()["truncated"] is False  # exactly the limit, nothing cut


@pytest.mark.parametrize(
    ("accept", "read"),
    [
        ("application/json", lambda b: pl.DataFrame(__import__("json").loads(b)["rows"])),
        ("text/csv", lambda b: pl.read_csv(io.BytesIO(b))),
        ("application/vnd.apache.arrow.file", lambda b: pl.read_ipc(io.BytesIO(b))),
        (ARROW, lambda b: pl.read_ipc_stream(io.BytesIO(b))),
        ("application/parquet", lambda b: pl.read_parquet(io.BytesIO(b))),
        ("text/html, application/parquet;q=0.9", lambda b: pl.read_parquet(io.BytesIO(b))),
        ("*/*", lambda b: pl.DataFrame(__import__("json").loads(b)["rows"])),
    ],
)
def test_response_formats_by_accept_header(api: Any, accept: str, read: Any) -> None:
    resp = api.get("/api/tables/shop.nation", params={"sort": "n_key"}, headers={"Accept": accept})
    assert resp.status_code == 200, resp.text
    assert read(resp.content)["n_name"].to_list() == ["ALGERIA", "BRAZIL", "CHINA"]


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png;q=1, */*;q=0"])
def test_unknown_accept_is_406(api: Any, accept: str) -> None:
    resp = api.get("/api/tables/shop.nation", headers={"Accept": accept})
    assert resp.status_code == 406
    assert "application/parquet" in resp.json()["message"]
    assert (
        api.post("/api/sql", content="SELECT 1 AS x", headers={"Accept": accept}).status_code == 406
    )


def test_schema_listing_and_openapi_name_every_table(api: Any, catalog: Catalog) -> None:
    served = set(catalog.list_tables())
    assert {t["name"] for t in api.get("/api/tables").json()} == served
    schema = api.get("/api/schema").json()
    assert set(schema) == served
    part = {c["name"]: c["type"] for c in schema["shop.part"]["columns"]}
    assert part == {k: str(v) for k, v in catalog.get_table("shop.part").schema().items()}
    assert api.get("/api/schema/shop.part").json() == schema["shop.part"]
    doc = api.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {
        p.removeprefix("/api/tables/") for p in doc["paths"] if p.startswith("/api/tables/")
    } == served
    props = doc["components"]["schemas"]["shop.part"]["properties"]
    assert set(props) == {"p_key", "p_name", "p_size", "p_brand"}
    assert props["p_key"]["type"] == "integer"
    params = {p["name"] for p in doc["paths"]["/api/tables/shop.part"]["get"]["parameters"]}
    assert {"columns", "sort", "limit", "filter[p_brand]"} <= params
    assert "/api/sql" in doc["paths"]


def test_unknown_table_and_parameter(api: Any) -> None:
    resp = api.get("/api/tables/shop.ordrs")
    assert resp.status_code == 404
    assert "shop.orders" in resp.json()["message"]
    resp = api.get("/api/tables/shop.orders", params={"filter[o_year]like": "2020"})
    assert resp.status_code == 400
    assert "operator" in resp.json()["message"]
    resp = api.get("/api/tables/shop.orders", params={"format": "x"})
    assert resp.status_code == 400
    resp = api.get("/api/tables/shop.orders", params={"filter[nope]": "1"})
    assert resp.status_code == 400
    assert "o_year" in resp.json()["message"]
    resp = api.post("/api/sql", content="SELECT * FROM shop.ordrs")
    assert resp.status_code == 404
    resp = api.post("/api/sql", content="SELECT o_year = 'abc' FROM shop.orders")
    assert 400 <= resp.status_code < 500
