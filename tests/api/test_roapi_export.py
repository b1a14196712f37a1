"""`export_roapi` / `neuralake roapi`, `neuralake api serve`, and `curl_snippet`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiserver import ApiServer

from neuralake import Catalog, Database, Filter, NeuralakeDeltaTable, ParquetTable
from neuralake.api import curl_snippet
from neuralake.export.roapi import (
    RoapiExportError,
    RoapiSkipWarning,
    export_roapi,
    plan_roapi,
)

REPO = Path(__file__).resolve().parents[2]


def test_export_maps_every_table(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.warns(RoapiSkipWarning) as caught:
        config = export_roapi(catalog, tmp_path / "roapi.yaml")
    tables = {t["name"]: t for t in config["tables"]}
    assert list(tables) == sorted(tables)
    assert set(tables) == {"nations", "shop_orders", "shop_part", "shop_supplier"}
    assert tables["shop_orders"]["option"] == {"format": "delta", "use_memory_table": False}
    assert tables["shop_part"]["partition_columns"] == [{"name": "p_size", "data_type": "Int32"}]
    assert tables["shop_part"]["uri"].endswith("/part/")
    assert "partition_columns" not in tables["shop_supplier"]  # stored in the files already
    skipped = " ".join(str(w.message) for w in caught)
    assert "shop.region" in skipped
    assert "function tables" in skipped
    assert "shop.customer" in skipped
    assert "directory-partitioned" in skipped
    assert "shop.part_brand" in skipped
    assert "percent-encoded" in skipped
    text = (tmp_path / "roapi.yaml").read_text()
    assert "# skipped shop.region" in text
    assert "AWS_" not in text  # no remote tables, no storage settings


def test_export_is_deterministic_and_valid_yaml(catalog: Catalog, tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoapiSkipWarning)
        first = export_roapi(catalog, tmp_path / "a.yaml", materialize=tmp_path / "snap")
        export_roapi(catalog, tmp_path / "b.yaml", materialize=tmp_path / "snap")
    assert (tmp_path / "a.yaml").read_bytes() == (tmp_path / "b.yaml").read_bytes()
    assert yaml.safe_load((tmp_path / "a.yaml").read_text()) == first
    snap = {t["name"]: t for t in first["tables"]}
    assert snap["shop_region"]["uri"] == str(tmp_path / "snap" / "shop_region.parquet")
    assert {"shop_customer", "shop_part_brand"} <= set(snap)


def test_memory_threshold_and_reload_interval(catalog: Catalog, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoapiSkipWarning)
        small = export_roapi(catalog, memory_threshold_bytes=0, reload_interval=2.5)
        big = export_roapi(catalog, memory_threshold_bytes=10**12)
    assert all(not t["option"]["use_memory_table"] for t in small["tables"])
    assert small["disable_read_only"] is True  # ROAPI refuses reloads in read-only mode
    assert all(t["reload_interval"] == {"secs": 2, "nanos": 500_000_000} for t in small["tables"])
    memory = {t["name"]: t["option"]["use_memory_table"] for t in big["tables"]}
    assert memory == {"nations": True, "shop_supplier": True,
                      "shop_orders": False, "shop_part": False}  # fmt: skip


@pytest.mark.skipif(
    not Path(sys.executable).with_name("roapi").exists(), reason="roapi binary not installed"
)
def test_roapi_accepts_the_exported_config_with_reload(catalog: Catalog) -> None:
    from neuralake.export.roapi_process import RoapiProcess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RoapiSkipWarning)
        plan = plan_roapi(catalog, reload_interval=30)
    with RoapiProcess(plan.to_dict()) as proc:
        schema = httpx.get(proc.url + "/api/schema", trust_env=False).json()
    assert set(schema) == {t.name for t in plan.tables}


def test_name_collision_is_an_error(lake: Path) -> None:
    a = ParquetTable("nation", str(lake / "nation"))
    b = NeuralakeDeltaTable("orders", str(lake / "orders"), extra={"roapi_name": "x_nation"})
    cat = Catalog({"x": Database([a, b])})
    with pytest.raises(RoapiExportError, match="x_nation"):
        plan_roapi(cat)


def test_curl_snippet_rest_and_sql_fallback() -> None:
    rest = curl_snippet("https://api.example.com/", "tpch", "part",
                        [Filter("p_brand", "=", "O'Brien #1"), Filter("p_size", ">=", 3)])  # fmt: skip
    assert rest.startswith("curl -sG 'https://api.example.com/api/tables/tpch.part'")
    assert "filter[p_size]gte=3" in rest
    assert '--data-urlencode "filter[p_brand]=O\'Brien #1"' in rest  # values go bare
    sql = curl_snippet("http://h", "tpch", "orders", [Filter("o_orderstatus", "in", ["F", "O"])],
                       token_env="API_TOKEN")  # fmt: skip
    assert "/api/sql" in sql
    assert "FROM tpch.orders WHERE o_orderstatus IN ('F', 'O')" in sql
    assert "Authorization: Bearer $API_TOKEN" in sql


def test_curl_snippet_runs_against_the_api(api: Any, catalog: Catalog) -> None:
    """The printed command's parameters reproduce the catalog's rows."""
    import shlex

    filters = [Filter("o_year", "=", 2021), Filter("o_key", "<", 500), Filter("o_date", ">=",
               __import__("datetime").date(2021, 1, 1))]  # fmt: skip
    cmd = curl_snippet("http://testserver", "shop", "orders", filters, limit=1000)
    words = shlex.split(cmd.replace("\\\n", " "))
    url = words[2]
    params = [w.split("=", 1) for w in words[4::2]]
    resp = api.get(url.removeprefix("http://testserver"), params=params)
    assert resp.status_code == 200, resp.text
    want = catalog.table("shop.orders", filters=filters).collect()
    assert want.height > 0
    assert sorted(r["o_key"] for r in resp.json()["rows"]) == sorted(want["o_key"].to_list())


CATALOG_MODULE = """
import polars as pl
from neuralake import Catalog, Database, FunctionTable, NeuralakeDeltaTable, ParquetTable

def region() -> pl.LazyFrame:
    return pl.LazyFrame({{"r_key": [0, 1], "r_name": ["AFRICA", "ASIA"]}})

catalog = Catalog({{"shop": Database([
    NeuralakeDeltaTable("orders", {orders!r}, partition_by=["o_year"]),
    ParquetTable("nation", {nation!r}),
    FunctionTable(region, name="region"),
])}}, name="cli_test")
"""


@pytest.fixture
def catalog_module(lake: Path, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "apicat.py").write_text(
        CATALOG_MODULE.format(orders=str(lake / "orders"), nation=str(lake / "nation"))
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO / "src")])}
    return env


def test_cli_roapi(catalog_module: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "roapi.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "neuralake", "roapi", "apicat:catalog", "--out", str(out)],
        cwd=tmp_path, env=catalog_module, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout
    assert "skipped shop.region" in done.stderr
    assert '"shop_orders"' in out.read_text()


def test_cli_api_serve(catalog_module: dict[str, str], tmp_path: Path) -> None:
    server = ApiServer("apicat:catalog", "--token-env", "CLI_TEST_TOKEN", "--row-limit", "7",
                       env={**catalog_module, "CLI_TEST_TOKEN": "tok-123"}, cwd=tmp_path)  # fmt: skip
    try:
        server.wait()
        auth = {"Authorization": "Bearer tok-123"}
        client = server.client
        assert client.get("/api/tables/shop.orders").status_code == 401
        assert len(client.get("/api/tables/shop.orders", headers=auth).json()["rows"]) == 7
        region = client.post("/api/sql", headers=auth,
                             content="SELECT r_name FROM shop.region ORDER BY r_key").json()  # fmt: skip
        assert region["rows"] == [{"r_name": "AFRICA"}, {"r_name": "ASIA"}]
        doc = client.get("/openapi.json", headers=auth).json()
        assert "/api/tables/shop.region" in doc["paths"]  # function tables are served too
        # The site's curl snippet runs as printed.
        env = server.env
        cmd = curl_snippet(server.base, "shop", "orders", [Filter("o_year", "=", 2022)],
                           token_env="CLI_TEST_TOKEN", limit=3)  # fmt: skip
        done = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, text=True,
                              timeout=30)  # fmt: skip
        rows = json.loads(done.stdout)["rows"]
        assert len(rows) == 3
        assert {r["o_year"] for r in rows} == {2022}
        cmd = curl_snippet(server.base, "shop", "orders", [Filter("o_year", "in", [2021])],
                           token_env="CLI_TEST_TOKEN", limit=2)  # fmt: skip
        done = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, text=True,
                              timeout=30)  # fmt: skip
        assert {r["o_year"] for r in json.loads(done.stdout)["rows"]} == {2021}
    finally:
        log = server.stop()
    assert "tok-123" not in log


@pytest.mark.parametrize(
    "value",
    ["0o17", "on", "null", "~", "a: b", "#x", "- y", "é ü", "tab\there", "line\nbreak", "x" * 300],
)
def test_yaml_strings_round_trip_quoted(value: str) -> None:
    import yaml

    from neuralake.export.roapi import to_yaml

    text = to_yaml({"tables": [{"name": "t", "uri": value, "option": {"use_memory_table": True}}]})
    assert yaml.safe_load(text) == {"tables": [{"name": "t", "uri": value,
                                                "option": {"use_memory_table": True}}]}  # fmt: skip
    assert "!!" not in text  # plain data only, no Python tags
    assert '"t"' in text  # strings double-quoted, read the same by YAML 1.1 and 1.2 parsers
    assert text.startswith("tables:\n")  # keys plain, in insertion order


def test_api_defaults_are_public() -> None:
    from neuralake.api import DEFAULT_ROW_LIMIT, DEFAULT_TIMEOUT_SECONDS
    from neuralake.api.server import ApiSettings

    assert ApiSettings().row_limit == DEFAULT_ROW_LIMIT
    assert ApiSettings().timeout == DEFAULT_TIMEOUT_SECONDS
