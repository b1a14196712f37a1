"""A Delta table on S3 (moto server child process) and the TPC-H demo catalog, through the API."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from apiserver import ApiServer
from polars.testing import assert_frame_equal

from neuralake import Catalog, Database, Filter, NeuralakeDeltaTable, StorageConfig
from neuralake.api.snippets import rest_params, sql_for
from neuralake.storage import get_s3_storage_options

ARROW = "application/vnd.apache.arrow.stream"

S3_CATALOG = """
import os
from neuralake import Catalog, Database, NeuralakeDeltaTable, StorageConfig

storage = StorageConfig(endpoint_url=os.environ["S3CAT_ENDPOINT"], region="us-east-1",
                        access_key_id="moto-test-key", secret_access_key="moto-test-secret",
                        allow_http=True)
catalog = Catalog({"s3shop": Database([NeuralakeDeltaTable(
    "orders", "s3://api-lake/shop/orders", partition_by=["o_year"])])}, name="s3", storage=storage)
"""


def _rows(resp: Any, expected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    assert resp.status_code == 200, resp.text
    got = pl.read_ipc_stream(io.BytesIO(resp.content))
    got = got.select(expected.columns).cast(dict(expected.schema))
    return got.sort(got.columns), expected.sort(expected.columns)


@pytest.mark.s3
def test_delta_on_s3_through_the_api(
    s3_storage: StorageConfig,
    tmp_path: Path,
    orders: pl.DataFrame,
    serve_api: Callable[..., ApiServer],
) -> None:
    import boto3

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

    (tmp_path / "s3cat.py").write_text(S3_CATALOG)
    server = serve_api("s3cat:catalog", cwd=tmp_path,
                       env={"S3CAT_ENDPOINT": str(s3_storage.endpoint_url)})  # fmt: skip
    filters = [Filter("o_year", "=", 2022), Filter("o_price", ">", 1000.0)]
    want = catalog.table("s3shop.orders", filters=filters).collect()
    assert want.height > 0
    resp = server.client.get("/api/tables/s3shop.orders", params=rest_params(filters),
                             headers={"Accept": ARROW})  # fmt: skip
    assert_frame_equal(*_rows(resp, want))
    resp = server.client.post("/api/sql", content=sql_for("s3shop", "orders", filters, 1000),
                              headers={"Accept": ARROW})  # fmt: skip
    assert_frame_equal(*_rows(resp, want))
    assert "moto-test-secret" not in server.stop()
    assert dict(os.environ) == environ_before  # no credentials were put into the environment


DEMO_CASES = [
    ("part", [Filter("p_brand", "=", "Brand#13")]),
    ("orders", [Filter("o_orderyear", "=", 1995), Filter("o_orderkey", "<", 20_000)]),
    ("lineitem", [Filter("l_shipyear", "=", 1994), Filter("l_orderkey", "<", 3_000)]),
    ("partsupp", [Filter("ps_bucket", "=", 3), Filter("ps_partkey", "<", 500)]),
    ("customer", [Filter("c_mktsegment", "=", "BUILDING")]),
]


def test_demo_catalog_through_the_api(
    demo_catalog: Catalog, demo_lake: Path, serve_api: Callable[..., ApiServer]
) -> None:
    server = serve_api("examples.tpch.catalog:catalog", "--row-limit", "10000",
                       env={"NEURALAKE_DEMO_LAKE": str(demo_lake)})  # fmt: skip
    served = set(server.client.get("/api/schema").json())
    assert served == set(demo_catalog.list_tables())  # function tables included
    names = {q.split(".", 1)[1] for q in demo_catalog.list_tables()}
    for table, filters in DEMO_CASES:
        if table not in names:
            continue
        want = demo_catalog.table(f"tpch.{table}", filters=filters).collect()
        params = rest_params(filters)
        assert params is not None
        resp = server.client.get(f"/api/tables/tpch.{table}", params=params,
                                 headers={"Accept": ARROW})  # fmt: skip
        assert_frame_equal(*_rows(resp, want), check_exact=False)
        resp = server.client.post("/api/sql", content=sql_for("tpch", table, filters, 10_000),
                                  headers={"Accept": ARROW})  # fmt: skip
        assert_frame_equal(*_rows(resp, want), check_exact=False)
