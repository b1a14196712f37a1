"""Shared fixtures: a moto S3 server in a child process, and local/S3 storage backends.

The S3 server is real HTTP (moto's server via ``s3server.py`` on 127.0.0.1, random port), started once
per test session (per xdist worker) and killed by PID at teardown. It never runs in the test
process: deltalake holds the GIL while waiting on S3. Tables reach it only through a
``StorageConfig`` handed to the catalog; ambient ``AWS_*`` variables are removed for every test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pytest
from deltalake import write_deltalake

from neuralake import Catalog, Database, StorageConfig, Table, default_catalog
from neuralake.storage import get_s3_storage_options

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
BUCKET = "neuralake-tests"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (closed again before returning)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    """A running moto server: its endpoint and a bucket created for the session."""

    endpoint: str
    bucket: str
    pid: int

    def config(self, **overrides: Any) -> StorageConfig:
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
            "region": "us-east-1",
            "allow_http": True,
        }
        values.update(overrides)
        return StorageConfig(**values)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name="us-east-1",
        )

    def keys(self, prefix: str) -> list[str]:
        """Object keys under ``prefix`` (``s3://bucket/`` stripped)."""
        prefix = prefix.removeprefix(f"s3://{self.bucket}/")
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _wait_until_answers(proc: subprocess.Popen[bytes], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if conn.recv(12).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"moto server did not answer on port {port} in {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server (``s3server.py``) in a child process on a free port, with one bucket."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("s3server.py")), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_until_answers(proc, port)
        server = S3Server(endpoint=f"http://127.0.0.1:{port}", bucket=BUCKET, pid=proc.pid)
        server.client().create_bucket(Bucket=BUCKET)
        yield server
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ambient AWS settings must never reach a test: everything goes through StorageConfig."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)


@dataclass
class Backend:
    """Where a test writes its tables: a local folder or a unique prefix in the moto bucket."""

    name: str
    root: str
    storage: StorageConfig | None = None

    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    @property
    def options(self) -> dict[str, str] | None:
        """Storage options for polars/delta-rs writers (``None`` for local folders)."""
        return get_s3_storage_options(self.storage) if self.is_s3 else None

    def uri(self, name: str) -> str:
        return f"{self.root}/{name}"

    def arrow_fs(self, uri: str) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem for writing test data, and the path inside it."""
        if not self.is_s3:
            return pafs.LocalFileSystem(), uri
        assert self.storage is not None
        fs = pafs.S3FileSystem(
            access_key=self.storage.access_key_id,
            secret_key=self.storage.secret_access_key,
            region="us-east-1",
            endpoint_override=self.storage.endpoint_url,
            scheme="http",
        )
        return fs, uri.removeprefix("s3://")

    # -- writers -------------------------------------------------------------------------------

    def write_hive_polars(self, df: pl.DataFrame, name: str, partition_by: Sequence[str]) -> str:
        """Hive-partitioned Parquet written by polars (``col=value/`` folders)."""
        uri = self.uri(name)
        df.write_parquet(uri + "/", partition_by=list(partition_by), storage_options=self.options)
        return uri

    def write_hive_pyarrow(self, df: pl.DataFrame, name: str, partition_by: Sequence[str]) -> str:
        """Hive-partitioned Parquet written by pyarrow (which percent-encodes more characters)."""
        return self._write_dataset(df, name, partition_by, flavor="hive")

    def write_directory(self, df: pl.DataFrame, name: str, partition_by: Sequence[str]) -> str:
        """Directory-partitioned Parquet (``value/`` folders) written by pyarrow."""
        return self._write_dataset(df, name, partition_by, flavor=None)

    def _write_dataset(
        self, df: pl.DataFrame, name: str, partition_by: Sequence[str], flavor: str | None
    ) -> str:
        uri = self.uri(name)
        fs, path = self.arrow_fs(uri)
        table = df.to_arrow()
        schema = pa.schema([table.schema.field(c) for c in partition_by])
        pads.write_dataset(
            table,
            path,
            format="parquet",
            filesystem=fs,
            partitioning=pads.partitioning(schema, flavor=flavor),
            existing_data_behavior="overwrite_or_ignore",
        )
        return uri

    def write_delta(
        self,
        data: pl.DataFrame | pa.Table,
        name: str,
        *,
        mode: str = "append",
        partition_by: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> str:
        uri = self.uri(name)
        table = data.to_arrow() if isinstance(data, pl.DataFrame) else data
        write_deltalake(
            uri,
            table,
            mode=mode,  # type: ignore[arg-type]
            partition_by=list(partition_by) if partition_by else None,
            storage_options=self.options,
            **kwargs,
        )
        return uri

    def catalog(self, tables: Sequence[Table], db: str = "db", **kwargs: Any) -> Catalog:
        """A catalog with ``tables`` in database ``db``, reaching storage through this backend."""
        return Catalog({db: Database(tables)}, storage=self.storage, **kwargs)


def make_backend(kind: str, tmp: Path, server: S3Server | None) -> Backend:
    if kind == "local":
        return Backend("local", str(tmp))
    assert server is not None
    return Backend("s3", f"s3://{server.bucket}/{uuid.uuid4().hex}", server.config())


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every behaviour suite runs once on a local folder and once on the moto S3 server."""
    server = request.getfixturevalue("s3_server") if request.param == "s3" else None
    return make_backend(request.param, tmp_path, server)


@pytest.fixture
def s3_backend(s3_server: S3Server) -> Backend:
    return make_backend("s3", Path("."), s3_server)


@pytest.fixture(scope="session")
def backend_factory(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``backend_factory(kind, server)``: a fresh backend per call (for hypothesis examples)."""

    def make(kind: str, server: S3Server | None = None) -> Backend:
        return make_backend(kind, tmp_path_factory.mktemp("lake"), server)

    return make


@pytest.fixture
def clean_default_catalog() -> Iterator[Catalog]:
    """``default_catalog``, with every table a test registers into it removed afterwards."""
    before = {(db, t.name) for db, t in default_catalog.registry.items()}
    yield default_catalog
    for db, t in default_catalog.registry.items():
        if (db, t.name) not in before:
            default_catalog.registry.unregister(db, t.name)


_SCAN = re.compile(r"SCAN \[([^\]]*)\]")
_OTHERS = re.compile(r"^\.\.\. (\d+) other sources?$")


def scanned_files(lf: pl.LazyFrame) -> list[tuple[str, int]]:
    """One ``(first file, number of files)`` per scan in the optimized plan of ``lf``.

    ``explain()`` prints a scan's sources as ``[first, ... N other sources]``.
    """
    scans = []
    for group in _SCAN.findall(lf.explain()):
        parts = [p.strip() for p in group.split(", ") if p.strip()]
        count = 0
        for part in parts:
            more = _OTHERS.match(part)
            count += int(more.group(1)) if more else 1
        scans.append((parts[0], count))
    return scans


@pytest.fixture
def scanned() -> Any:
    """``scanned(lf)`` -> ``[(first file, number of files), ...]``, one per scan of ``lf``."""
    return scanned_files


_REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated TPC-H demo lake (skipped if the example is missing)."""
    if not (_REPO / "examples" / "tpch" / "generate.py").exists():
        pytest.skip("examples/tpch not available")
    if str(_REPO) not in sys.path:
        sys.path.insert(0, str(_REPO))
    import importlib

    lake = tmp_path_factory.getbasetemp() / "demo_lake"
    if not (lake / "tpch").exists():
        importlib.import_module("examples.tpch.generate").generate(lake, scale=0.01)
    return lake


@pytest.fixture
def demo_catalog(demo_lake: Path, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """The TPC-H demo catalog over :func:`demo_lake`."""
    import importlib

    monkeypatch.setenv("NEURALAKE_DEMO_LAKE", str(demo_lake))  # read by examples.tpch.tables
    for mod in ("examples.tpch.tables", "examples.tpch.catalog"):
        if mod in sys.modules:
            importlib.reload(sys.modules[mod])
    cat = importlib.import_module("examples.tpch.catalog").catalog
    assert isinstance(cat, Catalog)
    return cat
