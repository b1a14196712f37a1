"""Fixtures for the API tests: a small lake with every table type, and the real API serving it.

Everything runs for real: ``neuralake api serve`` in a subprocess on a free 127.0.0.1 port, its
query worker processes, the ``roapi`` binary for the export tests, and a moto S3 server in a
child process for the S3 tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from apiserver import ApiServer
from shop_catalog import build_lake, make_catalog, orders_frame

from neuralake import Catalog, StorageConfig

REPO = Path(__file__).resolve().parents[2]


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
def serve_api() -> Iterator[Callable[..., ApiServer]]:
    """``serve_api(ref, *args, env=...)``: a started server (stopped at the end of the session)."""
    started: list[ApiServer] = []

    def start(ref: str, *args: str, **kwargs: Any) -> ApiServer:
        server = ApiServer(ref, *args, **kwargs)
        started.append(server)
        return server.wait()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def api_server(serve_api: Callable[..., ApiServer], lake: Path) -> ApiServer:
    return serve_api("shop_catalog:catalog", "--row-limit", "1000", "--timeout", "20",
                     env={"SHOP_LAKE": str(lake)})  # fmt: skip


@pytest.fixture(scope="session")
def api(api_server: ApiServer) -> httpx.Client:
    """A client of the session's API server over the shop lake."""
    return api_server.client


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
