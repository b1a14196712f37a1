"""The guard makes the API read-only, requires the token when set, and survives ROAPI dying."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from neuralake import Catalog

HOSTILE = [
    "INSERT INTO shop_orders VALUES (1, 2020, 'F', 1.0)",
    "COPY (SELECT * FROM shop_orders) TO '{out}/stolen.parquet'",
    "COPY shop_orders TO '{out}/stolen.csv' STORED AS CSV",
    "DROP TABLE shop_orders",
    "CREATE EXTERNAL TABLE x STORED AS PARQUET LOCATION '{out}/'",
    "CREATE TABLE x AS SELECT * FROM shop_orders",
    "SELECT 1; COPY (SELECT 1) TO '{out}/x.parquet'",
    "SELECT * FROM shop_orders; DROP TABLE shop_orders",
    "SELECT 1 -- ; COPY (SELECT 1) TO '{out}/x.parquet'",
    "SELECT 1 /* */; COPY (SELECT 1) TO '{out}/x.parquet'",
    "SELECT 1 /* /* */ ; COPY (SELECT 1) TO '{out}/x.parquet' ; /* */ */",
    "SET datafusion.execution.batch_size = 1",
    "EXPLAIN ANALYZE SELECT * FROM shop_orders",
    "EXPLAIN SELECT 1",
    "SHOW TABLES",
    "DESCRIBE shop_orders",
    "SELECT * INTO x FROM shop_orders",
    "WITH w AS (INSERT INTO shop_orders VALUES (1, 2020, 'F', 1.0) RETURNING *) SELECT * FROM w",
    "SELECT * FROM '{out}/../lake0/nation/nation.parquet'",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM read_parquet('{out}/x.parquet')",
    "SELECT $$a$$",
    "DELETE FROM shop_orders",
    "UPDATE shop_orders SET o_price = 0",
    "",
    "SELECT o_key FROM shop_orders LIMIT 100000",
    "SELECT 1 AS x " + "UNION ALL SELECT 1 " * 2_000,
]


@pytest.fixture
def watched(lake: Path, tmp_path: Path, listing: Any) -> dict[str, tuple[int, int]]:
    return dict(listing(lake, tmp_path))


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_sql_is_rejected_and_nothing_changes(
    api: Any,
    lake: Path,
    tmp_path: Path,
    watched: dict[str, tuple[int, int]],
    template: str,
    listing: Any,
) -> None:
    resp = api.post("/api/sql", content=template.format(out=tmp_path))
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"] in ("rejected", "too_long")
    assert listing(lake, tmp_path) == watched


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/table"),
        ("DELETE", "/api/table/shop_orders"),
        ("POST", "/api/tables/drop"),
        ("GET", "/api/sql"),
        ("PUT", "/api/sql"),
        ("POST", "/api/tables/shop_orders"),
        ("POST", "/api/graphql"),
        ("GET", "/api/kv/x/y"),
        ("GET", "/ui"),
    ],
)
def test_only_read_endpoints_exist(api: Any, method: str, path: str) -> None:
    resp = api.request(method, path, content=b"{}")
    assert resp.status_code in (404, 405)


def test_roapi_alone_writes_files_the_guard_refuses(
    catalog: Catalog, api: Any, tmp_path: Path, listing: Any
) -> None:
    """The claim behind the guard, checked against the real binary."""
    from neuralake.api.process import RoapiProcess
    from neuralake.export.roapi import plan_roapi

    plan = plan_roapi(catalog)
    sql = f"COPY (SELECT o_key FROM shop_orders LIMIT 3) TO '{tmp_path}/direct.parquet'"
    with RoapiProcess(plan.to_dict()) as proc:
        direct = httpx.post(proc.url + "/api/sql", content=sql, trust_env=False)
        assert direct.status_code == 200, direct.text
        assert (tmp_path / "direct.parquet").exists()  # ROAPI wrote a file, read-only mode or not
        ins = httpx.post(proc.url + "/api/sql", trust_env=False,
                         content="INSERT INTO shop_orders VALUES (1, 2020, 'F', 1.0)")  # fmt: skip
        assert ins.status_code != 404
    before = listing(tmp_path)
    sql2 = sql.replace("direct", "guarded")
    resp = api.post("/api/sql", content=sql2)
    assert resp.status_code == 400
    assert not (tmp_path / "guarded.parquet").exists()
    assert listing(tmp_path) == before


@pytest.fixture
def small_app(catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from neuralake.api.server import create_app

    monkeypatch.setenv("NEURALAKE_TEST_API_TOKEN", "s3cr3t-token")
    app = create_app(catalog, token_env="NEURALAKE_TEST_API_TOKEN", materialize=tmp_path / "snap")
    with TestClient(app) as client:
        yield client


def test_token_required(small_app: Any) -> None:
    good = {"Authorization": "Bearer s3cr3t-token"}
    for path in ("/api/tables/nations", "/api/schema", "/openapi.json"):
        assert small_app.get(path).status_code == 401
        assert small_app.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert small_app.get(path, headers={"Authorization": "s3cr3t-token"}).status_code == 401
        assert small_app.get(path, headers=good).status_code == 200
    assert small_app.post("/api/sql", content="SELECT 1 AS x").status_code == 401
    assert small_app.post("/api/sql", content="SELECT 1 AS x", headers=good).json() == [{"x": 1}]
    doc = small_app.get("/openapi.json", headers=good).json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_missing_token_variable_refuses_to_start(catalog: Catalog) -> None:
    from neuralake.api.server import ApiConfigError, create_app

    with pytest.raises(ApiConfigError, match="NEURALAKE_UNSET_TOKEN_VAR"):
        create_app(catalog, token_env="NEURALAKE_UNSET_TOKEN_VAR")


def test_503_then_restart_when_roapi_dies(small_app: Any) -> None:
    good = {"Authorization": "Bearer s3cr3t-token"}
    guard = small_app.app.state.guard
    old = guard.process.proc
    old.kill()  # the ROAPI child this app started, by its own handle
    old.wait(5)
    resp = small_app.get("/api/tables/nations", headers=good)
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        resp = small_app.get("/api/tables/nations", headers=good)
        if resp.status_code == 200:
            break
        time.sleep(0.2)
    assert resp.status_code == 200
    assert len(resp.json()) == 3
    assert guard.process.restarts >= 1
    assert guard.process.proc.pid != old.pid


def test_timeout_answers_504(catalog: Catalog, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from neuralake.api.server import create_app

    app = create_app(catalog, timeout=0.001, materialize=tmp_path / "snap", row_limit=10_000)
    with TestClient(app) as client:
        resp = client.post(
            "/api/sql",
            content="SELECT a.o_key, count(*) AS n FROM shop_orders a JOIN shop_orders b "
            "ON a.o_year = b.o_year GROUP BY a.o_key",
        )
    assert resp.status_code == 504


def test_roapi_does_not_outlive_python(lake: Path) -> None:
    import os
    import subprocess
    import sys

    code = (
        "from neuralake.api.process import RoapiProcess\n"
        f"p = RoapiProcess({{'tables': [{{'name': 'n', 'uri': {str(lake / 'nation') + '/'!r}, "
        "'option': {'format': 'parquet'}}]})\n"
        "p.start()\nprint(p.proc.pid, flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.strip())
    time.sleep(0.3)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # signal 0: only checks that the process exists
