"""Benchmark 2: a hive-partitioned Parquet dataset with 1,250 partitions on S3 (a moto server).

TPC-H SF1 ``orders`` is partitioned by ``o_custbucket = o_custkey % 1250`` and uploaded to a
moto S3 server started as a child process on 127.0.0.1. A one-partition equality query through
the catalog is compared with

1. ``pl.scan_parquet(<that partition's folder>/)``: the best a user can do knowing the layout;
2. ``pl.scan_parquet(<root>/, hive_partitioning=True).filter(...)``: the generic scan, which
   lists every object under the root before pruning.

Credentials go through ``StorageConfig`` / ``get_s3_storage_options``; nothing is written to
``os.environ``. Run from the repository root::

    python -m bench.s3_bench
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
from examples.tpch.tables import ORDERS_SCHEMA

from bench.common import DATA, Comparison, compare, ensure_tpch, log, summary, write_results
from neuralake import (
    Catalog,
    Database,
    Filter,
    ParquetTable,
    Partition,
    StorageConfig,
    get_s3_storage_options,
)

BUCKET = "neuralake-bench"
PREFIX = "orders_by_custbucket"
# Not a multiple of 3: TPC-H leaves every third customer without orders.
BUCKETS = 1250
KEY = "o_custbucket"
PROBE = 417
MAX_RATIO_DIRECT = 1.5
MIN_SPEEDUP_HIVE = 10.0
# moto accepts any credentials; they are passed explicitly, never through os.environ.
ACCESS_KEY, SECRET_KEY, REGION = "bench-access-key", "bench-secret-key", "us-east-1"


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Start ``python -m moto.server`` on a free port of 127.0.0.1; yield its endpoint URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {endpoint}") from None
                time.sleep(0.1)
        log(f"moto server pid {proc.pid} on {endpoint}")
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def local_dataset(lake: Path) -> Path:
    """``bench/data/orders_by_custbucket_1250/o_custbucket=N/*.parquet`` (written once, then reused)."""
    out = DATA / f"{PREFIX}_{BUCKETS}"
    done = out / "_SUCCESS"
    if done.exists():
        return out
    orders = (
        pl.scan_delta(str(lake / "tpch" / "orders"))
        .drop("o_orderyear")
        .with_columns((pl.col("o_custkey") % BUCKETS).cast(pl.Int32).alias(KEY))
        .sort(KEY, "o_orderkey")
        .collect()
    )
    orders.write_parquet(out, partition_by=KEY, mkdir=True)
    done.touch()
    return out


def upload(folder: Path, endpoint: str, bucket: str = BUCKET, prefix: str = PREFIX) -> int:
    """Copy every Parquet file under ``folder`` to ``s3://bucket/prefix/``; returns the count."""
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name=REGION,
    )  # fmt: skip
    s3.create_bucket(Bucket=bucket)
    files = sorted(folder.rglob("*.parquet"))

    def put(path: Path) -> None:
        key = f"{prefix}/{path.relative_to(folder).as_posix()}"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, files))
    return len(files)


def run() -> dict[str, Any]:
    lake = ensure_tpch()
    folder = local_dataset(lake)
    with moto_server() as endpoint:
        start = time.perf_counter()
        n_files = upload(folder, endpoint)
        log(
            f"uploaded {n_files} files to s3://{BUCKET}/{PREFIX}/ in {time.perf_counter() - start:.1f}s"
        )
        storage = StorageConfig(
            endpoint_url=endpoint, region=REGION, access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY, allow_http=True,
        )  # fmt: skip
        opts = get_s3_storage_options(storage)
        root = f"s3://{BUCKET}/{PREFIX}"
        orders = ParquetTable(
            "orders_by_custbucket",
            root,
            partitioning=[Partition(KEY, pl.Int32)],
            partitioning_scheme="hive",
            schema=ORDERS_SCHEMA.remove(ORDERS_SCHEMA.get_field_index("o_orderyear")),
        )
        catalog = Catalog({"s3": Database([orders])}, name="bench_s3", storage=storage)
        filters = [Filter(KEY, "=", PROBE)]

        def cat() -> pl.DataFrame:
            return catalog.table("s3.orders_by_custbucket", filters=filters).collect()

        label = (
            f"catalog.table('s3.orders_by_custbucket', filters=[Filter('{KEY}', '=', {PROBE})])"
            ".collect()"
        )

        def direct() -> pl.DataFrame:
            return pl.scan_parquet(f"{root}/{KEY}={PROBE}/", storage_options=opts).collect()

        def hive() -> pl.DataFrame:
            lf = pl.scan_parquet(f"{root}/", hive_partitioning=True, storage_options=opts)
            return lf.filter(pl.col(KEY) == PROBE).collect()

        def same(got: pl.DataFrame, want: pl.DataFrame) -> None:
            want = want.select(got.columns).with_columns(pl.col(KEY).cast(pl.Int32))
            assert got.height > 0
            assert got.sort("o_orderkey").equals(want.sort("o_orderkey")), (got, want)

        rows: list[Comparison] = [
            compare(
                f"{KEY} = {PROBE} vs direct partition scan",
                (label, cat),
                (f"pl.scan_parquet('{root}/{KEY}={PROBE}/').collect()", direct),
                max_ratio=MAX_RATIO_DIRECT,
                check=same,
            ),
            compare(
                f"{KEY} = {PROBE} vs hive scan + filter",
                (label, cat),
                (f"pl.scan_parquet('{root}/', hive_partitioning=True).filter(...).collect()", hive),
                min_speedup=MIN_SPEEDUP_HIVE,
                check=same,
            ),
        ]
    return {
        "title": f"Hive-partitioned Parquet on S3 (moto server), {BUCKETS} partitions",
        "context": {
            "dataset": f"TPC-H SF1 orders, hive-partitioned by {KEY} = o_custkey % {BUCKETS}",
            "objects": n_files,
            "rows per partition": f"~{1_500_000 // BUCKETS}",
            "server": "python -m moto.server on 127.0.0.1 (child process), plain HTTP",
            "targets": f"catalog/direct <= {MAX_RATIO_DIRECT}; catalog >= {MIN_SPEEDUP_HIVE:g}x "
            "faster than the hive scan",
        },
        "notes": [
            "Requests per query (moto request log, polars 2.1 / pyarrow 26): catalog = 1 LIST "
            "(pyarrow: does the pinned partition folder exist?) + 1 LIST and 1 ranged GET by "
            "Polars (the declared schema spares the footer probe); direct scan = 1 LIST + 2 "
            "GETs (schema probe, then data); hive scan = 2 LIST pages over all objects, then "
            "footers of a sample of files before pruning, then the data.",
            "moto answers every LIST by walking the whole bucket, so each request costs a few "
            "ms here; against AWS S3 the fixed per-request latency dominates instead.",
        ],
        "rows": rows,
    }


def main() -> int:
    sections = {"s3": run()}
    json_path, md_path = write_results("s3", sections)
    print(summary(sections))
    print(f"results: {json_path} {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
