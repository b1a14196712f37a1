"""A Delta table on S3 (moto server child process) and the TPC-H demo catalog, through the API."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from neuralake import Catalog, Database, Filter, NeuralakeDeltaTable, StorageConfig
from neuralake.api.snippets import rest_params, sql_for
from neuralake.storage import get_s3_storage_options

ARROW = "application/vnd.apache.arrow.stream"


def _rows(resp: Any, expected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    assert resp.status_code == 200, resp.text
    got = pl.read_ipc_stream(io.BytesIO(resp.content))
    got = got.select(expected.columns).cast(dict(expected.schema))
    return got.sort(got.columns), expected.sort(expected.columns)


@pytest.mark.s3
def test_delta_on_s3_through_the_api(
    s3_storage: StorageConfig, tmp_path: Path, orders: pl.DataFrame
) -> None:
    import boto3
    from starlette.testclient import TestClient

    from neuralake.api.server import create_app

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_storage.endpoint_url,
        aws_access_key_id=s3_storage.access_key_id,
        aws_secret_access_key=s3_storage.secret_access_key,
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket="api-lake")
    opts = get_s3_storage_options(s3_storage)
    orders.write_delta(
        "s3://api-lake/shop/orders", storage_options=opts,
        delta_write_options={"partition_by": ["o_year"]},
    )  # fmt: skip
    table = NeuralakeDeltaTable("orders", "s3://api-lake/shop/orders", partition_by=["o_year"])
    catalog = Catalog({"s3shop": Database([table])}, name="s3", storage=s3_storage)
    environ_before = dict(os.environ)

    from neuralake.export.roapi import export_roapi

    out = tmp_path / "roapi.yaml"
    export_roapi(catalog, out)
    text = out.read_text()
    assert "AWS_SECRET_ACCESS_KEY" in text
    assert "AWS_ENDPOINT_URL" in text
    assert "moto-test-secret" not in text
    assert "moto-test-key" not in text

    filters = [Filter("o_year", "=", 2022), Filter("o_price", ">", 1000.0)]
    with TestClient(create_app(catalog)) as client:
        resp = client.get("/api/tables/s3shop_orders", params=rest_params(filters),
                          headers={"Accept": ARROW})  # fmt: skip
        want = catalog.db("s3shop").table("orders", filters=filters).collect()
        assert want.height > 0
        assert_frame_equal(*_rows(resp, want))
        resp = client.post("/api/sql", content=sql_for("s3shop_orders", filters, 1000),
                           headers={"Accept": ARROW})  # fmt: skip
        assert_frame_equal(*_rows(resp, want))
        log = client.app.state.guard.process.log_tail(200)
        assert "moto-test-secret" not in log
    # Credentials went to ROAPI's child environment only.
    assert dict(os.environ) == environ_before


DEMO_CASES = [
    ("part", [Filter("p_brand", "=", "Brand#13")]),
    ("orders", [Filter("o_orderyear", "=", 1995), Filter("o_orderkey", "<", 20_000)]),
    ("lineitem", [Filter("l_shipyear", "=", 1994), Filter("l_orderkey", "<", 3_000)]),
    ("partsupp", [Filter("ps_bucket", "=", 3), Filter("ps_partkey", "<", 500)]),
    ("customer", [Filter("c_mktsegment", "=", "BUILDING")]),
]


def test_demo_catalog_through_the_api(demo_catalog: Catalog, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from neuralake.api.server import create_app

    names = {q.split(".", 1)[1] for q in demo_catalog.list_tables()}
    with TestClient(create_app(demo_catalog, materialize=tmp_path / "snap")) as client:
        served = set(client.get("/api/schema").json())
        for table, filters in DEMO_CASES:
            if table not in names:
                continue
            db = "tpch"
            api_name = f"{db}_{table}"
            assert api_name in served
            want = demo_catalog.db(db).table(table, filters=filters).collect()
            params = rest_params(filters)
            assert params is not None
            resp = client.get(f"/api/tables/{api_name}", params=params, headers={"Accept": ARROW})
            assert_frame_equal(*_rows(resp, want), check_exact=False)
            resp = client.post("/api/sql", content=sql_for(api_name, filters, 10_000),
                               headers={"Accept": ARROW})  # fmt: skip
            assert_frame_equal(*_rows(resp, want), check_exact=False)
