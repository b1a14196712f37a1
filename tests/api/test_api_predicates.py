"""The REST and SQL renderings of random filters, run by the real API server, select exactly
the rows the catalog's own read selects."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralake import Catalog, Filter
from neuralake.api.snippets import rest_params, sql_for

ARROW = "application/vnd.apache.arrow.stream"
KEYS = ["o_key", "o_price", "o_status", "o_year"]

values = {
    "o_key": st.integers(-5, 2_100),
    "o_year": st.integers(2019, 2024),
    "o_status": st.sampled_from(["F", "O", "P", "o", "", "F'", "%", "_"]),
    "o_price": st.sampled_from([0.0, 1.25, 500.0, 1249.99, 2500.0]),
}
comparison = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


@st.composite
def leaf(draw: Any) -> Filter:
    column = draw(st.sampled_from(list(values)))
    kind = draw(st.sampled_from(["cmp", "in", "not in", "null", "contains"]))
    if kind == "cmp":
        return Filter(column, draw(comparison), draw(values[column]))
    if kind in ("in", "not in"):
        return Filter(column, kind, draw(st.lists(values[column], max_size=3)))
    if kind == "contains" and column == "o_status":
        return Filter(column, "contains", draw(values[column]))
    return Filter(column, draw(st.sampled_from(["is null", "is not null"])))


dnf = st.lists(st.lists(leaf(), min_size=1, max_size=3), min_size=1, max_size=2)


def _rows(df: pl.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(df.select(KEYS).cast({"o_year": pl.Int64}).rows())


def _api_rows(resp: Any) -> list[tuple[Any, ...]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-neuralake-truncated"] == "false"
    return _rows(pl.read_ipc_stream(io.BytesIO(resp.content)))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filters=dnf)
def test_rendered_filters_select_the_catalogs_rows(
    api: Any, catalog: Catalog, filters: list[list[Filter]]
) -> None:
    # Every branch stays under the API's row limit (1,000), so no answer is cut short.
    filters = [[*branch, Filter("o_key", "<", 900)] for branch in filters]
    schema = catalog.get_table("shop.orders").schema()
    want = _rows(catalog.table("shop.orders", filters=filters).collect())
    sql = sql_for("shop", "orders", filters, 1_000, schema)
    assert _api_rows(api.post("/api/sql", content=sql, headers={"Accept": ARROW})) == want
    params = rest_params(filters, schema)
    if params is not None:
        got = api.get("/api/tables/shop.orders", params=[*params, ("limit", "1000")],
                      headers={"Accept": ARROW})  # fmt: skip
        assert _api_rows(got) == want
