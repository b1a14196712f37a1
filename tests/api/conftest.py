"""Fixtures for the API tests: a small lake with every table type, and the guard serving it.

Everything runs for real: the ``roapi`` binary on 127.0.0.1 (free ports), the Starlette guard,
and a moto S3 server in a child process for the S3 tests.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.dataset as pads
import pytest

from neuralake import (
    Catalog,
    Database,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
    StorageConfig,
)

ROAPI = Path(sys.executable).with_name("roapi")
pytestmark = pytest.mark.skipif(not ROAPI.exists(), reason="roapi binary not installed")

N = 2_000


def orders_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "o_key": pl.Series(range(N), dtype=pl.Int64),
            "o_year": pl.Series([2020 + i % 4 for i in range(N)], dtype=pl.Int32),
            "o_status": [["F", "O", "P"][i % 3] for i in range(N)],
            "o_price": [round(i * 1.25, 2) for i in range(N)],
        }
    )


def parts_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "p_key": pl.Series(range(500), dtype=pl.Int64),
            "p_name": [f"part {i}" for i in range(500)],
            "p_brand": [f"Brand#{1 + i % 5}" for i in range(500)],
            "p_size": pl.Series([i % 7 for i in range(500)], dtype=pl.Int32),
        }
    )


def build_lake(root: Path) -> None:
    orders_frame().write_delta(root / "orders", delta_write_options={"partition_by": ["o_year"]})
    # Hive Parquet written by PyArrow: partition values only in folder names.
    for folder, column in (("part", "p_size"), ("part_brand", "p_brand")):
        pads.write_dataset(
            parts_frame().to_arrow(),
            root / folder,
            format="parquet",
            partitioning=pads.partitioning(
                parts_frame().select(column).to_arrow().schema, flavor="hive"
            ),
        )  # p_brand=Brand%231: PyArrow percent-encodes '#'
    # Hive Parquet written by Polars: partition values also stored in the files.
    supplier = pl.DataFrame(
        {
            "s_key": pl.Series(range(300), dtype=pl.Int64),
            "s_nation": [["FRANCE", "PERU", "JAPAN"][i % 3] for i in range(300)],
            "s_balance": [i * 0.5 for i in range(300)],
        }
    )
    supplier.write_parquet(root / "supplier", partition_by=["s_nation"])
    # Directory-partitioned Parquet: ROAPI cannot read the partition column.
    customer = pl.DataFrame(
        {
            "c_key": list(range(100)),
            "c_segment": [["BUILDING", "MACHINERY"][i % 2] for i in range(100)],
        }
    )
    for (segment,), part in customer.partition_by(
        "c_segment", as_dict=True, include_key=False
    ).items():
        (root / "customer" / str(segment)).mkdir(parents=True)
        part.write_parquet(root / "customer" / str(segment) / "part-0.parquet")
    # Unpartitioned Parquet.
    (root / "nation").mkdir()
    pl.DataFrame({"n_key": [0, 1, 2], "n_name": ["ALGERIA", "BRAZIL", "CHINA"]}).write_parquet(
        root / "nation" / "nation.parquet"
    )


def region() -> pl.LazyFrame:
    """The regions, computed in Python."""
    return pl.LazyFrame({"r_key": [0, 1, 2], "r_name": ["AFRICA", "AMERICA", "ASIA"]})


def make_catalog(root: Path) -> Catalog:
    tables = [
        NeuralakeDeltaTable("orders", str(root / "orders"), partition_by=["o_year"]),
        ParquetTable("part", str(root / "part"), partitioning=[Partition("p_size", pl.Int32)]),
        ParquetTable(
            "part_brand", str(root / "part_brand"), partitioning=[Partition("p_brand", pl.String)]
        ),
        ParquetTable(
            "supplier", str(root / "supplier"), partitioning=[Partition("s_nation", pl.String)]
        ),
        ParquetTable(
            "customer",
            str(root / "customer"),
            partitioning=[Partition("c_segment", pl.String)],
            partitioning_scheme="directory",
        ),
        ParquetTable("nation", str(root / "nation"), extra={"roapi_name": "nations"}),
        FunctionTable(region, name="region"),
    ]
    return Catalog({"shop": Database(tables)}, name="shop_test")


@pytest.fixture
def orders() -> pl.DataFrame:
    return orders_frame()


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    build_lake(root)
    return root


@pytest.fixture(scope="session")
def catalog(lake: Path) -> Catalog:
    return make_catalog(lake)


@pytest.fixture
def listing() -> Callable[..., dict[str, tuple[int, int]]]:
    """``listing(*roots)``: every file under ``roots`` with size and mtime (nothing changed?)."""
    return file_listing


def file_listing(*roots: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for f in files:
                p = Path(dirpath) / f
                st = p.stat()
                out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="session")
def api(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The guard app (ROAPI running behind it) with a TestClient."""
    from starlette.testclient import TestClient

    from neuralake.api.server import create_app

    snapshots = tmp_path_factory.mktemp("snapshots")
    app = create_app(catalog, materialize=snapshots, row_limit=1_000, timeout=20)
    with TestClient(app) as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


@pytest.fixture(scope="session")
def moto_endpoint(s3_server: Any) -> str:
    """The session's moto S3 server (started by the root conftest in a child process)."""
    return str(s3_server.endpoint)


@pytest.fixture
def s3_storage(moto_endpoint: str) -> StorageConfig:
    return StorageConfig(
        endpoint_url=moto_endpoint,
        region="us-east-1",
        access_key_id="moto-test-key",
        secret_access_key="moto-test-secret",
        allow_http=True,
    )


@pytest.fixture
def demo_catalog(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Catalog:
    """The TPC-H demo catalog on a small generated lake (skipped if the example is missing)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "examples" / "tpch" / "generate.py").exists():
        pytest.skip("examples/tpch not available")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    lake = tmp_path_factory.getbasetemp() / "demo_lake"
    monkeypatch.setenv("NEURALAKE_DEMO_LAKE", str(lake))  # read by examples.tpch.tables
    import importlib

    gen = importlib.import_module("examples.tpch.generate")
    if not (lake / "tpch").exists():
        gen.generate(lake, scale=0.01)
    for mod in ("examples.tpch.tables", "examples.tpch.catalog"):
        if mod in sys.modules:
            importlib.reload(sys.modules[mod])
    cat = importlib.import_module("examples.tpch.catalog").catalog
    assert isinstance(cat, Catalog)
    return cat
