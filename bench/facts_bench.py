"""Benchmark: table stats (rows, files, bytes, partitions, column min/max/nulls) read from
metadata only, against the raw library doing the same reads.

1. TPC-H SF1 ``lineitem`` from its Delta log, against delta-rs listing the add actions alone.
   Target: stats in at most 2 s.
2. A hive-partitioned Parquet dataset of 1,000 small files (100 partitions x 10 files) on a moto
   S3 server (child process on 127.0.0.1), from the 1,000 Parquet footers, against pyarrow's
   ``S3FileSystem`` listing the root and reading the same footers (a pool of as many threads as
   neuralake uses) with ``pyarrow.parquet.read_metadata`` and with the listed size.
   Target: stats in at most 5 s. Every run builds a new table (and the baseline a new
   filesystem), so nothing is reused between runs.

Run from the repository root::

    python -m bench.facts_bench
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from bench.common import DATA, compare, ensure_tpch, log, summary, write_results
from bench.s3_bench import ACCESS_KEY, REGION, SECRET_KEY, moto_server, upload
from neuralake import NeuralakeDeltaTable, ParquetTable, Partition, StorageConfig
from neuralake.tables.stats import FOOTER_THREADS

TARGET_SECONDS = 2.0
S3_TARGET_SECONDS = 5.0
BUCKET = "neuralake-facts-bench"
PREFIX = "events_1000_files"
PARTITIONS = 100
FILES_PER_PARTITION = 10
ROWS_PER_FILE = 100
KEY = "part"


def run_delta() -> dict[str, Any]:
    from deltalake import DeltaTable

    path = str(ensure_tpch() / "tpch" / "lineitem")
    table = NeuralakeDeltaTable("lineitem", path, partition_by=["l_shipyear"])

    def stats() -> int:
        found = table.stats()
        assert found.columns, "no column profiles"
        return found.rows or 0

    def actions() -> int:
        rows = DeltaTable(path).get_add_actions(flatten=True).column("num_records")
        return int(sum(rows.to_pylist()))

    def same(got: int, want: int) -> None:
        assert got == want, (got, want)

    row = compare(
        "lineitem stats (rows, files, bytes, column profiles)",
        ("NeuralakeDeltaTable.stats()", stats),
        ("DeltaTable(path).get_add_actions(flatten=True)", actions),
        check=same,
        note=f"target: stats() <= {TARGET_SECONDS:g} s",
    )
    found = table.stats()
    return {
        "title": "Table stats from the Delta log (TPC-H SF1 lineitem)",
        "context": {
            "table": path,
            "rows": found.rows,
            "files": found.files,
            "source": found.source,
            "target seconds": TARGET_SECONDS,
            "met": row.catalog_s <= TARGET_SECONDS,
        },
        "notes": ["Metadata only: the log's add actions; no data file is opened."],
        "rows": [row],
    }


def local_dataset() -> Path:
    """``bench/data/events_1000_files/part=P/file-F.parquet`` (written once, then reused)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = DATA / PREFIX
    done = out / "_SUCCESS"
    if done.exists():
        return out
    day0 = dt.date(2024, 1, 1)
    for p in range(PARTITIONS):
        folder = out / f"{KEY}={p}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(FILES_PER_PARTITION):
            first = (p * FILES_PER_PARTITION + f) * ROWS_PER_FILE
            ids = list(range(first, first + ROWS_PER_FILE))
            data = pa.table(
                {
                    "id": pa.array(ids, pa.int64()),
                    "user": pa.array([f"user-{i % 997:03d}" for i in ids]),
                    "amount": pa.array([None if i % 7 == 0 else i / 100 for i in ids]),
                    "day": pa.array([day0 + dt.timedelta(days=i % 365) for i in ids]),
                }
            )
            pq.write_table(data, folder / f"file-{f:02d}.parquet")
    done.touch()
    return out


def request_floor(endpoint: str) -> float:
    """Seconds for one HEAD request per data file (8 threads): what the server costs alone."""
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(
        access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
        endpoint_override=endpoint, scheme="http",
    )  # fmt: skip
    infos = fs.get_file_info(pafs.FileSelector(f"{BUCKET}/{PREFIX}", recursive=True))
    paths = [i.path for i in infos if i.path.endswith(".parquet")]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fs.get_file_info, paths))
    return time.perf_counter() - start


def run_s3() -> dict[str, Any]:
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    folder = local_dataset()
    with moto_server() as endpoint:
        start = time.perf_counter()
        n_files = upload(folder, endpoint, BUCKET, PREFIX)
        log(
            f"uploaded {n_files} files to s3://{BUCKET}/{PREFIX}/ in {time.perf_counter() - start:.1f}s"
        )
        storage = StorageConfig(
            endpoint_url=endpoint, region=REGION, access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY, allow_http=True,
        )  # fmt: skip
        root = f"s3://{BUCKET}/{PREFIX}"

        def stats() -> tuple[int, int]:
            # a new table each run: nothing is cached between runs
            table = ParquetTable(
                "events", root, partitioning=[Partition(KEY, pl.Int32)], storage=storage
            )
            found = table.stats()
            assert found.partitions == PARTITIONS, found.partitions
            assert found.columns, "no column profiles"
            return found.rows or 0, found.files or 0

        def footers(threads: int, sized: bool = False) -> tuple[int, int]:
            fs = pafs.S3FileSystem(
                access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
                endpoint_override=endpoint, scheme="http",
            )  # fmt: skip
            infos = fs.get_file_info(pafs.FileSelector(f"{BUCKET}/{PREFIX}", recursive=True))
            files = [i for i in infos if i.path.endswith(".parquet")]
            fmt = pads.ParquetFileFormat()

            def read(info: pafs.FileInfo) -> int:
                if sized:  # the listed size: one ranged GET, no HEAD
                    return fmt.make_fragment(info.path, fs, file_size=info.size).metadata.num_rows
                return pq.read_metadata(info.path, filesystem=fs).num_rows

            if threads == 1:
                rows = [read(f) for f in files]
            else:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    rows = list(pool.map(read, files))
            return sum(rows), len(files)

        def same(got: tuple[int, int], want: tuple[int, int]) -> None:
            expected = PARTITIONS * FILES_PER_PARTITION * ROWS_PER_FILE
            assert got == want == (expected, n_files), (got, want)

        label = (
            "ParquetTable(root, partitioning=[Partition('part', pl.Int32)], storage=...).stats()"
        )
        raw = "S3FileSystem: list + pq.read_metadata(path, filesystem=fs)"
        sized = "S3FileSystem: list + ParquetFileFormat().make_fragment(path, fs, file_size=size)"
        rows = [
            compare(
                f"{n_files} footers on S3: stats vs pyarrow with listed sizes, "
                f"{FOOTER_THREADS} threads",
                (label, stats),
                (
                    f"{sized}, {FOOTER_THREADS}-thread pool",
                    lambda: footers(FOOTER_THREADS, sized=True),
                ),
                check=same,
                note=f"target: stats() <= {S3_TARGET_SECONDS:g} s",
            ),
            compare(
                f"{n_files} footers on S3: stats vs pyarrow read_metadata, {FOOTER_THREADS} threads",
                (label, stats),
                (f"{raw}, {FOOTER_THREADS}-thread pool", lambda: footers(FOOTER_THREADS)),
                check=same,
                note=f"target: stats() <= {S3_TARGET_SECONDS:g} s",
            ),
        ]
        floor = request_floor(endpoint)
    slowest = max(r.catalog_s for r in rows)
    return {
        "title": f"Table stats from Parquet footers on S3 (moto server), {n_files} files",
        "context": {
            "dataset": f"{PARTITIONS} hive partitions ({KEY}=0..{PARTITIONS - 1}) x "
            f"{FILES_PER_PARTITION} files x {ROWS_PER_FILE} rows; columns id, user, amount "
            "(nulls), day",
            "objects": n_files,
            "server": "python -m moto.server on 127.0.0.1 (child process), plain HTTP",
            "footer threads": FOOTER_THREADS,
            "moto request floor": f"{n_files} HEAD requests alone (8 threads): {floor:.2f} s",
            "target seconds": S3_TARGET_SECONDS,
            "met": slowest <= S3_TARGET_SECONDS,
        },
        "notes": [
            "Both sides list the root once and read every footer (pyarrow's footer read); "
            "neither opens a data page. stats() also folds row-group "
            "statistics into per-column min/max/null counts and parses the partition folders.",
            "Cold each run: a new ParquetTable (stats) and a new S3FileSystem (baseline).",
            "pq.read_metadata costs two requests per footer (a HEAD for the size, then a "
            "ranged GET of the tail); stats() passes the size the listing (or the Delta log) "
            "already holds, so each footer is one ranged GET. moto is one Python process "
            "answering a request in 3-5 ms of CPU on this 2-core machine (the request floor "
            "above), which is what the remaining time is. Against AWS S3 the per-request "
            "latency dominates instead and the thread pool hides it.",
        ],
        "rows": rows,
    }


def run() -> dict[str, Any]:
    """Both cases as one section (for ``bench.run_all``)."""
    delta, s3 = run_delta(), run_s3()
    return {
        "title": "Table stats from metadata (Delta log; Parquet footers on S3)",
        "context": {
            **{f"delta {k}": v for k, v in delta["context"].items()},
            **{f"s3 {k}": v for k, v in s3["context"].items()},
        },
        "notes": delta["notes"] + s3["notes"],
        "rows": delta["rows"] + s3["rows"],
    }


def main() -> int:
    sections = {"facts": run_delta(), "facts_s3": run_s3()}
    json_path, md_path = write_results("facts", sections)
    print(summary(sections))
    print(f"results: {json_path} {md_path}")
    return 0 if all(s["context"]["met"] for s in sections.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
