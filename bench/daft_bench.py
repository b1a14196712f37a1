"""Benchmark: the Daft engine (``engine="daft"``) against raw Daft doing the same reads.

1. TPC-H Q1 and Q6 on SF1 ``lineitem`` (Delta, partitioned by ship year, written through
   neuralake with large strings, so Daft reads it): ``catalog.table(..., engine="daft")`` and
   ``catalog.sql(..., engine="daft")`` against ``daft.read_deltalake(path)`` with the same
   expressions, and against the Polars path (``catalog.table(...)`` + the same query,
   ``.collect()``). Once on Daft's native runner and once on a local Ray cluster
   (``ray.init(num_cpus=2)``): Daft picks its runner once per process, so each runner's
   measurements run in a child process (``--runner native|ray``) that hands back JSON.
2. One partition of the 1,250-partition hive Parquet dataset on a moto S3 server (built by
   :mod:`bench.s3_bench`) through the catalog, against ``daft.read_parquet(<root>/**/*.parquet,
   hive_partitioning=True).where(...)`` (and against a glob of that partition's folder).
3. A full read (``sum(id)``) of local hive Parquet tables of 10, 100 and 1,000 small files:
   how the catalog's overhead grows with the file count.

Run from the repository root::

    python -m bench.daft_bench           # writes bench/results/daft.{json,md}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from bench import s3_bench
from bench.common import (
    DATA,
    MAX_REPEAT,
    MIN_REPEAT,
    MIN_SECONDS,
    REPO_ROOT,
    RESULTS,
    Comparison,
    ensure_tpch,
    log,
    summary,
    write_results,
)

MAX_RATIO = 1.10
RAY_CPUS = 2
Q6_ROUNDS = 15
FILE_COUNTS = (10, 100, 1000)
FILES_PARTITIONS = 10
ROWS_PER_FILE = 100
# The four money columns are decimal(15, 2); Daft cannot multiply them three times (the result
# precision would exceed 38), so every side casts them to float64 first.
MONEY = ("l_quantity", "l_extendedprice", "l_discount", "l_tax")
Q1_COLUMNS = ["l_returnflag", "l_linestatus", "l_shipdate", *MONEY, "l_orderkey"]
Q6_COLUMNS = ["l_shipdate", "l_discount", "l_quantity", "l_extendedprice"]
Q1_CUTOFF = dt.date(1998, 12, 1) - dt.timedelta(days=90)
Q6_FROM, Q6_TO = dt.date(1994, 1, 1), dt.date(1995, 1, 1)

Q1_SQL = f"""
SELECT l_returnflag, l_linestatus, SUM(q) AS sum_qty, SUM(p) AS sum_base_price,
       SUM(p * (1 - d)) AS sum_disc_price, SUM(p * (1 - d) * (1 + t)) AS sum_charge,
       AVG(q) AS avg_qty, AVG(p) AS avg_price, AVG(d) AS avg_disc, COUNT(*) AS count_order
FROM (
  SELECT l_returnflag, l_linestatus, CAST(l_quantity AS DOUBLE) AS q,
         CAST(l_extendedprice AS DOUBLE) AS p, CAST(l_discount AS DOUBLE) AS d,
         CAST(l_tax AS DOUBLE) AS t
  FROM tpch.lineitem WHERE l_shipdate <= DATE '{Q1_CUTOFF}'
) AS l
GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus
"""
Q6_SQL = f"""
SELECT SUM(CAST(l_extendedprice AS DOUBLE) * CAST(l_discount AS DOUBLE)) AS revenue
FROM tpch.lineitem
WHERE l_shipdate >= DATE '{Q6_FROM}' AND l_shipdate < DATE '{Q6_TO}'
  AND CAST(l_discount AS DOUBLE) BETWEEN 0.05 AND 0.07 AND CAST(l_quantity AS DOUBLE) < 24
"""


# -- timing -------------------------------------------------------------------------------------


def rotated(
    sides: dict[str, Callable[[], Any]],
    check: Callable[[Any, Any], None] | None = None,
    *,
    min_rounds: int = MIN_REPEAT,
) -> dict[str, list[float]]:
    """Time several callables in rotating order, after one warm-up each.

    The warm-up results of every side are checked against the first side's. Stops as
    :func:`bench.common.paired` does: at least ``min_rounds`` rounds, more (up to MAX_REPEAT)
    until the slowest side has run for MIN_SECONDS.
    """
    names = list(sides)
    first = None
    for i, name in enumerate(names):
        got = sides[name]()
        if i == 0:
            first = got
        elif check is not None:
            check(first, got)
    samples: dict[str, list[float]] = {n: [] for n in names}
    i = 0
    while i < min_rounds or (
        i < MAX_REPEAT and max(sum(s) for s in samples.values()) < MIN_SECONDS
    ):
        k = i % len(names)
        order = names[k:] + names[:k]
        for name in order if i % 2 == 0 else reversed(order):
            start = time.perf_counter()
            sides[name]()
            samples[name].append(time.perf_counter() - start)
        i += 1
    return samples


def comparison(
    case: str,
    catalog: tuple[str, list[float]],
    baseline: tuple[str, list[float]],
    *,
    max_ratio: float | None = None,
    note: str = "",
) -> Comparison:
    c, b = statistics.median(catalog[1]), statistics.median(baseline[1])
    if max_ratio is None:
        target, ok = "informational", True
    else:
        target, ok = f"ratio <= {max_ratio:g}", c / b <= max_ratio
    row = Comparison(
        case, catalog[0], baseline[0], c, b, target, ok, len(catalog[1]), catalog[1],
        baseline[1], note,
    )  # fmt: skip
    log(
        f"  {case}: {c * 1000:.1f} ms vs {b * 1000:.1f} ms, ratio {row.ratio:.3f}"
        + ("" if max_ratio is None else f" ({target}: {'ok' if ok else 'MISSED'})")
    )
    return row


def frames_close(got: Any, want: Any) -> None:
    """Same rows (order-insensitive), floats to 1e-9 relative; integer widths may differ."""
    from polars.testing import assert_frame_equal

    a, b = _polars(got), _polars(want)
    assert a.height > 0, "empty result"
    b = b.select(a.columns)
    by = a.columns
    assert_frame_equal(a.sort(by), b.sort(by), check_dtypes=False, rel_tol=1e-9)


def _polars(x: Any) -> pl.DataFrame:
    if isinstance(x, pl.DataFrame):
        return x
    frame = pl.from_arrow(x)
    assert isinstance(frame, pl.DataFrame)
    return frame


# -- 1. TPC-H Q1 / Q6 on Delta lineitem ---------------------------------------------------------


def daft_q1(df: Any) -> Any:
    import daft
    from daft import col

    df = df.with_columns({c: col(c).cast(daft.DataType.float64()) for c in MONEY})
    disc = col("l_extendedprice") * (1 - col("l_discount"))
    return (
        df.where(col("l_shipdate") <= Q1_CUTOFF)
        .groupby("l_returnflag", "l_linestatus")
        .agg(
            col("l_quantity").sum().alias("sum_qty"),
            col("l_extendedprice").sum().alias("sum_base_price"),
            disc.sum().alias("sum_disc_price"),
            (disc * (1 + col("l_tax"))).sum().alias("sum_charge"),
            col("l_quantity").mean().alias("avg_qty"),
            col("l_extendedprice").mean().alias("avg_price"),
            col("l_discount").mean().alias("avg_disc"),
            col("l_orderkey").count().alias("count_order"),
        )
        .sort(["l_returnflag", "l_linestatus"])
    )


def daft_q6(df: Any) -> Any:
    import daft
    from daft import col

    df = df.with_columns({c: col(c).cast(daft.DataType.float64()) for c in MONEY[:3]})
    return df.where(
        (col("l_shipdate") >= Q6_FROM)
        & (col("l_shipdate") < Q6_TO)
        & (col("l_discount") >= 0.05)
        & (col("l_discount") <= 0.07)
        & (col("l_quantity") < 24)
    ).agg((col("l_extendedprice") * col("l_discount")).sum().alias("revenue"))


def polars_q1(lf: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    lf = lf.with_columns(c(*MONEY).cast(pl.Float64))
    disc = c("l_extendedprice") * (1 - c("l_discount"))
    return (
        lf.filter(c("l_shipdate") <= Q1_CUTOFF)
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            c("l_quantity").sum().alias("sum_qty"),
            c("l_extendedprice").sum().alias("sum_base_price"),
            disc.sum().alias("sum_disc_price"),
            (disc * (1 + c("l_tax"))).sum().alias("sum_charge"),
            c("l_quantity").mean().alias("avg_qty"),
            c("l_extendedprice").mean().alias("avg_price"),
            c("l_discount").mean().alias("avg_disc"),
            c("l_orderkey").count().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def polars_q6(lf: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    lf = lf.with_columns(c(*MONEY[:3]).cast(pl.Float64))
    return lf.filter(
        (c("l_shipdate") >= Q6_FROM)
        & (c("l_shipdate") < Q6_TO)
        & c("l_discount").is_between(0.05, 0.07)
        & (c("l_quantity") < 24)
    ).select((c("l_extendedprice") * c("l_discount")).sum().alias("revenue"))


def lineitem_path() -> str:
    return str((ensure_tpch() / "tpch" / "lineitem").absolute())


def delta_catalog(path: str) -> Any:
    from examples.tpch.tables import LINEITEM_SCHEMA

    from neuralake import Catalog, Database, NeuralakeDeltaTable

    lineitem = NeuralakeDeltaTable(
        "lineitem", path, schema=LINEITEM_SCHEMA, partition_by=["l_shipyear"]
    )
    # The demo catalog's declaration: unique_columns adds the key-state walk to planning.
    keyed = NeuralakeDeltaTable(
        "lineitem_keyed", path, schema=LINEITEM_SCHEMA, partition_by=["l_shipyear"],
        unique_columns=["l_orderkey", "l_linenumber"],
    )  # fmt: skip
    return Catalog({"tpch": Database([lineitem, keyed])}, name="bench_daft")


def measure_delta(runner: str) -> tuple[list[Comparison], dict[str, Any]]:
    import daft

    from neuralake.errors import UnsupportedFeatureError

    path = lineitem_path()
    catalog = delta_catalog(path)
    context: dict[str, Any] = {}
    # One-off costs: Daft's first Delta read in the process, then the catalog's first read,
    # which reads the footer of every data file once (string-view check, then cached).
    start = time.perf_counter()
    daft.read_deltalake(path)
    context[f"{runner}: first daft.read_deltalake(path) in the process"] = (
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    start = time.perf_counter()
    catalog.table("tpch.lineitem", engine="daft")
    context[f"{runner}: first catalog.table(engine='daft') (footer check cold)"] = (
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    rows: list[Comparison] = []
    queries = (
        ("Q1", daft_q1, polars_q1, Q1_SQL, Q1_COLUMNS, MIN_REPEAT),
        # Q6 takes ~50-100 ms: more rounds, so a few slow runs on a busy machine do not decide.
        ("Q6", daft_q6, polars_q6, Q6_SQL, Q6_COLUMNS, Q6_ROUNDS),
    )
    for name, dq, pq, sql, cols, rounds in queries:
        sides = {
            "catalog_daft": lambda dq=dq, cols=cols: dq(
                catalog.table("tpch.lineitem", columns=cols, engine="daft")
            ).to_arrow(),
            "raw_daft": lambda dq=dq: dq(daft.read_deltalake(path)).to_arrow(),
            "catalog_sql_daft": lambda sql=sql: catalog.sql(sql, engine="daft").to_arrow(),
            "catalog_polars": lambda pq=pq, cols=cols: pq(
                catalog.table("tpch.lineitem", columns=cols)
            ).collect(),
        }
        log(f"{runner}: TPC-H {name}")
        s = rotated(sides, check=frames_close, min_rounds=rounds)
        cat = (
            f"{name}(catalog.table('tpch.lineitem', columns=..., engine='daft')).to_arrow()",
            s["catalog_daft"],
        )
        raw = (f"{name}(daft.read_deltalake(path)).to_arrow()", s["raw_daft"])
        rows += [
            comparison(f"[{runner}] {name}: catalog daft vs raw daft", cat, raw,
                       max_ratio=MAX_RATIO),
            comparison(
                f"[{runner}] {name}: catalog.sql daft vs raw daft",
                (f"catalog.sql({name}_SQL, engine='daft').to_arrow()", s["catalog_sql_daft"]),
                raw,
            ),
            comparison(
                f"[{runner}] {name}: catalog daft vs catalog polars", cat,
                (f"{name}(catalog.table('tpch.lineitem', columns=...)).collect()",
                 s["catalog_polars"]),
            ),
        ]  # fmt: skip
    # Planning alone (building the lazy frame): where a fixed overhead comes from.
    log(f"{runner}: planning only")
    plans = {
        "catalog": lambda: catalog.table("tpch.lineitem", engine="daft"),
        "keyed": lambda: catalog.table("tpch.lineitem_keyed", engine="daft"),
        "raw": lambda: daft.read_deltalake(path),
    }
    try:
        plans["keyed"]()
    except UnsupportedFeatureError as exc:
        # A lake written before neuralake marked its commits as keeping the key unique.
        context[f"{runner}: keyed declaration (unique_columns) refused"] = str(exc)[:160]
        del plans["keyed"]
    s = rotated(plans)
    raw = ("daft.read_deltalake(path)", s["raw"])
    rows.append(
        comparison(f"[{runner}] plan only: catalog.table(engine='daft') vs raw",
                   ("catalog.table('tpch.lineitem', engine='daft')", s["catalog"]), raw)
    )  # fmt: skip
    if "keyed" in s:
        rows.append(
            comparison(f"[{runner}] plan only: keyed declaration vs raw",
                       ("catalog.table('tpch.lineitem_keyed', engine='daft')", s["keyed"]), raw)
        )  # fmt: skip
    return rows, context


# -- 2. one partition of 1,250 on S3 ------------------------------------------------------------


def measure_s3(runner: str, endpoint: str) -> list[Comparison]:
    import daft
    from daft.io import IOConfig, S3Config
    from examples.tpch.tables import ORDERS_SCHEMA

    from neuralake import Catalog, Database, Filter, ParquetTable, Partition, StorageConfig

    key, probe = s3_bench.KEY, s3_bench.PROBE
    root = f"s3://{s3_bench.BUCKET}/{s3_bench.PREFIX}"
    storage = StorageConfig(
        endpoint_url=endpoint, region=s3_bench.REGION, access_key_id=s3_bench.ACCESS_KEY,
        secret_access_key=s3_bench.SECRET_KEY, allow_http=True,
    )  # fmt: skip
    orders = ParquetTable(
        "orders_by_custbucket",
        root,
        partitioning=[Partition(key, pl.Int32)],
        partitioning_scheme="hive",
        schema=ORDERS_SCHEMA.remove(ORDERS_SCHEMA.get_field_index("o_orderyear")),
    )
    catalog = Catalog({"s3": Database([orders])}, name="bench_daft_s3", storage=storage)
    io = IOConfig(
        s3=S3Config(
            endpoint_url=endpoint, region_name=s3_bench.REGION, key_id=s3_bench.ACCESS_KEY,
            access_key=s3_bench.SECRET_KEY, use_ssl=False, force_virtual_addressing=False,
        )
    )  # fmt: skip
    filters = [Filter(key, "=", probe)]

    def cat() -> Any:
        return catalog.table("s3.orders_by_custbucket", filters=filters, engine="daft").to_arrow()

    def hive() -> Any:
        df = daft.read_parquet(f"{root}/**/*.parquet", hive_partitioning=True, io_config=io)
        return df.where(daft.col(key) == probe).to_arrow()

    def direct() -> Any:
        return daft.read_parquet(f"{root}/{key}={probe}/*.parquet", io_config=io).to_arrow()

    def same(got: Any, want: Any) -> None:
        a = _polars(got)
        b = _polars(want)
        if key not in b.columns:
            b = b.with_columns(pl.lit(probe, pl.Int32).alias(key))
        frames_close(a, b.with_columns(pl.col(key).cast(pl.Int32)))

    log(f"{runner}: S3 one partition of {s3_bench.BUCKETS}")
    s = rotated({"catalog": cat, "hive": hive, "direct": direct}, check=same)
    label = (
        f"catalog.table('s3.orders_by_custbucket', filters=[Filter('{key}', '=', {probe})], "
        "engine='daft').to_arrow()"
    )
    return [
        comparison(
            f"[{runner}] S3 {key} = {probe}: catalog daft vs raw daft hive glob + where",
            (label, s["catalog"]),
            (f"daft.read_parquet('{root}/**/*.parquet', hive_partitioning=True)"
             f".where(col('{key}') == {probe}).to_arrow()", s["hive"]),
        ),
        comparison(
            f"[{runner}] S3 {key} = {probe}: catalog daft vs raw daft partition glob",
            (label, s["catalog"]),
            (f"daft.read_parquet('{root}/{key}={probe}/*.parquet').to_arrow()", s["direct"]),
        ),
    ]  # fmt: skip


# -- 3. overhead against the file count ---------------------------------------------------------


def files_dataset(n: int) -> Path:
    """``bench/data/daft_files_<n>/part=P/file-F.parquet``: n files of 100 rows (written once)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = DATA / f"daft_files_{n}"
    done = out / "_SUCCESS"
    if done.exists():
        return out
    per = n // FILES_PARTITIONS
    for p in range(FILES_PARTITIONS):
        folder = out / f"part={p}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per):
            first = (p * per + f) * ROWS_PER_FILE
            ids = pa.array(range(first, first + ROWS_PER_FILE), pa.int64())
            data = pa.table({"id": ids, "amount": pc.divide(ids, 100.0)})
            pq.write_table(data, folder / f"file-{f:03d}.parquet")
    done.touch()
    return out


def measure_files(runner: str) -> list[Comparison]:
    import daft

    from neuralake import Catalog, Database, ParquetTable, Partition

    tables = [
        ParquetTable(
            f"files_{n}",
            str(files_dataset(n)),
            partitioning=[Partition("part", pl.Int32)],
            partitioning_scheme="hive",
            schema=pl.Schema({"id": pl.Int64, "amount": pl.Float64, "part": pl.Int32}),
        )
        for n in FILE_COUNTS
    ]
    catalog = Catalog({"local": Database(tables)}, name="bench_daft_files")
    rows: list[Comparison] = []
    for n in FILE_COUNTS:
        root = files_dataset(n)
        name = f"local.files_{n}"
        glob = f"{root}/**/*.parquet"

        def cat(name: str = name) -> Any:
            return catalog.table(name, engine="daft").agg(daft.col("id").sum()).to_arrow()

        def raw(glob: str = glob) -> Any:
            df = daft.read_parquet(glob, hive_partitioning=True)
            return df.agg(daft.col("id").sum()).to_arrow()

        log(f"{runner}: {n} files")
        s = rotated(
            {
                "catalog": cat,
                "raw": raw,
                "catalog_plan": lambda name=name: catalog.table(name, engine="daft"),
                "raw_plan": lambda glob=glob: daft.read_parquet(glob, hive_partitioning=True),
            },
            check=None,
        )
        frames_close(cat(), raw())
        rows += [
            comparison(
                f"[{runner}] {n} files: sum(id), plan + run",
                (f"catalog.table('{name}', engine='daft').agg(sum(id)).to_arrow()", s["catalog"]),
                (f"daft.read_parquet('{root.name}/**/*.parquet', hive_partitioning=True)"
                 ".agg(sum(id)).to_arrow()", s["raw"]),
            ),
            comparison(
                f"[{runner}] {n} files: plan only",
                (f"catalog.table('{name}', engine='daft')", s["catalog_plan"]),
                (f"daft.read_parquet('{root.name}/**/*.parquet', hive_partitioning=True)",
                 s["raw_plan"]),
            ),
        ]  # fmt: skip
    return rows


# -- where the catalog's time goes --------------------------------------------------------------


def _median_ms(fn: Callable[[], Any], n: int = 21) -> float:
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def measure_profile() -> dict[str, Any]:
    """Medians (ms) of the steps of ``catalog.table(..., engine="daft")``, warm caches."""
    import asyncio
    import glob

    import daft
    from daft.io.pushdowns import Pushdowns

    from neuralake.storage import StorageConfig, daft_io_config
    from neuralake.tables import daft as daft_source
    from neuralake.tables.delta import daft as delta_daft
    from neuralake.tables.delta.snapshot import open_snapshot

    path = lineitem_path()
    catalog = delta_catalog(path)
    table = catalog.get_table("tpch.lineitem")
    target = table._target(table.resolve_storage(None))
    snapshot = open_snapshot(target)
    io = daft_io_config(target.cfg)
    frame = daft.read_deltalake(path)
    out: dict[str, Any] = {
        "delta: catalog.table(engine='daft')": _median_ms(
            lambda: catalog.table("tpch.lineitem", engine="daft")
        ),
        "delta: open_snapshot (neuralake's DeltaTable)": _median_ms(lambda: open_snapshot(target)),
        "delta: check_supported (footer check cached)": _median_ms(
            lambda: delta_daft.check_supported(target, snapshot)
        ),
        "delta: daft.read_deltalake(uri, version=) (Daft opens the log again)": _median_ms(
            lambda: daft.read_deltalake(target.uri, version=snapshot.version(), io_config=io)
        ),
        "delta: conform to the declared schema": _median_ms(
            lambda: daft_source.conform(frame, target.declared_schema, target.label)
        ),
    }
    root = files_dataset(max(FILE_COUNTS))
    files = sorted(glob.glob(f"{root}/**/*.parquet", recursive=True))
    pairs = [(f, (int(Path(f).parent.name.split("=")[1]),)) for f in files]
    source = daft_source.FilesSource(
        pairs, pl.Schema({"id": pl.Int64, "amount": pl.Float64}), pl.Schema({"part": pl.Int32}),
        StorageConfig(),
    )  # fmt: skip

    async def drain() -> int:
        return len([t async for t in source.get_tasks(Pushdowns())])

    out[f"files: FilesSource.get_tasks for {len(files)} files (one task each)"] = _median_ms(
        lambda: asyncio.run(drain()), n=7
    )
    out[f"files: sum(id) through FilesSource alone ({len(files)} files)"] = _median_ms(
        lambda: source.read().agg(daft.col("id").sum()).to_arrow(), n=7
    )
    out[f"files: sum(id) by daft.read_parquet(<{len(files)} paths>)"] = _median_ms(
        lambda: daft.read_parquet(files).agg(daft.col("id").sum()).to_arrow(), n=7
    )
    for k, v in out.items():
        log(f"  profile {k}: {v} ms")
    return {f"profile (native, ms) {k}": v for k, v in out.items()}


# -- child process: one runner ------------------------------------------------------------------


def child(runner: str, out: Path, endpoint: str | None, parts: list[str]) -> int:
    ray = None
    if runner == "ray":
        import ray

        from neuralake.query.daft import use_ray

        start = time.perf_counter()
        ray.init(num_cpus=RAY_CPUS, include_dashboard=False)
        use_ray()
        log(f"ray: local cluster up in {time.perf_counter() - start:.1f}s")
    try:
        rows: list[Comparison] = []
        context: dict[str, Any] = {}
        if "delta" in parts:
            got, ctx = measure_delta(runner)
            rows += got
            context.update(ctx)
        if "s3" in parts and endpoint:
            rows += measure_s3(runner, endpoint)
        if "files" in parts:
            rows += measure_files(runner)
        if "profile" in parts:
            context.update(measure_profile())
    finally:
        if ray is not None:
            ray.shutdown()
    out.write_text(json.dumps({"rows": [r.to_dict() for r in rows], "context": context}))
    return 0


def run_child(runner: str, endpoint: str | None, parts: list[str]) -> dict[str, Any]:
    env = {**os.environ, "DAFT_PROGRESS_BAR": "0"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{runner}.json"
        cmd = [sys.executable, "-m", "bench.daft_bench", "--runner", runner, "--out", str(out),
               "--parts", ",".join(parts)]  # fmt: skip
        if endpoint:
            cmd += ["--endpoint", endpoint]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True)
        log(f"{runner} child done in {time.perf_counter() - start:.0f}s")
        data = json.loads(out.read_text())
    names = {f.name for f in fields(Comparison)}
    data["rows"] = [Comparison(**{k: v for k, v in r.items() if k in names}) for r in data["rows"]]
    return data


# -- parent -------------------------------------------------------------------------------------


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("daft", "ray", "polars", "deltalake", "pyarrow", "moto", "neuralake"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def run_sections() -> dict[str, dict[str, Any]]:
    path = lineitem_path()
    folder = s3_bench.local_dataset(ensure_tpch())
    for n in FILE_COUNTS:
        files_dataset(n)
    load = [round(x, 2) for x in os.getloadavg()]
    with s3_bench.moto_server() as endpoint:
        start = time.perf_counter()
        n_objects = s3_bench.upload(folder, endpoint)
        log(f"uploaded {n_objects} files to S3 in {time.perf_counter() - start:.1f}s")
        native = run_child("native", endpoint, ["delta", "s3", "files", "profile"])
        ray = run_child("ray", endpoint, ["delta", "s3"])
    load_after = [round(x, 2) for x in os.getloadavg()]

    def pick(rows: list[Comparison], *words: str) -> list[Comparison]:
        return [r for r in rows if any(w in r.case for w in words)]

    versions = _versions()
    common = {
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "load average (1/5/15 min) before / after": f"{load} / {load_after}",
    }
    return {
        "daft_delta": {
            "title": "TPC-H Q1 / Q6 on Delta lineitem (SF1, ~6M rows, partitioned by "
            "l_shipyear): engine='daft' vs raw Daft vs the Polars path",
            "context": {
                "table": f"{path} (written through neuralake: large strings, no view types)",
                "ray": f"local cluster, ray.init(num_cpus={RAY_CPUS}, include_dashboard=False), "
                "then neuralake.query.daft.use_ray()",
                **{k: v for k, v in native["context"].items() if "ms) files" not in k},
                **ray["context"],
                **common,
                "target": f"catalog daft / raw daft <= {MAX_RATIO}",
            },
            "notes": [
                "Every side casts l_quantity, l_extendedprice, l_discount, l_tax (decimal(15,2)) "
                "to float64 first: Daft refuses Q1's decimal products (precision > 38).",
                "The catalog, raw Daft, catalog.sql and Polars sides of one query run in "
                "rotating order in the same child process, one process per runner.",
                "'plan only' rows time building the lazy frame alone (snapshot, neuralake's "
                "checks, Daft's Delta planning); the keyed declaration (unique_columns) adds "
                "the key-state walk of the log.",
                "The catalog's fixed cost is planning: it opens the Delta log twice (neuralake's "
                "snapshot, then daft.read_deltalake opens its own DeltaTable for the same "
                "version) and conforms the frame to the declared schema; the footer check "
                "for string-view columns reads every footer on the first read only (then "
                "cached per file). The physical plans of catalog and raw Daft are identical "
                "(same scan, pushdowns and tasks). The rest of the gap on the ~50 ms Q6 comes "
                "from the extra projections (conform's select of all declared columns, even "
                "when the stored schema already matches, and the columns= select): ~2-4 ms "
                "each in a 15-run check. Fixes in src/: hand Daft the already-loaded snapshot "
                "(one log load per read instead of two) and skip conform's select when the "
                "stored schema equals the declared one. Q1 (1-2 s) hides the fixed cost.",
                "catalog.sql Q6 is slower than the expression form because Daft's SQL planner "
                "pushes the cast predicates into the Parquet scan; raw daft.sql on "
                "daft.read_deltalake(path) shows the same cost, so it is not neuralake's.",
                "The bench/data lake was written before neuralake marked commits as keeping "
                "the key unique, so the keyed declaration is refused by engine='daft' "
                "(regenerating the lake with examples/tpch/generate.py --force fixes it); "
                "the rows above use the declaration without unique_columns, as delta_bench does.",
            ],
            "rows": pick(native["rows"], "Q1", "Q6", "plan only: c", "plan only: k")
            + pick(ray["rows"], "Q1", "Q6", "plan only: c", "plan only: k"),
        },
        "daft_s3": {
            "title": f"One partition of {s3_bench.BUCKETS} (hive Parquet on a moto S3 server)",
            "context": {
                "dataset": f"TPC-H SF1 orders by {s3_bench.KEY} = o_custkey % {s3_bench.BUCKETS}",
                "objects": n_objects,
                "server": "python -m moto.server on 127.0.0.1 (child process), plain HTTP",
            },
            "notes": [
                "The catalog lists only the pinned partition folder and hands Daft that one "
                "file; the raw glob lists all objects under the root before pruning.",
            ],
            "rows": pick(native["rows"], "S3") + pick(ray["rows"], "S3"),
        },
        "daft_files": {
            "title": "Overhead against the file count (local hive Parquet, 100 rows per file)",
            "context": {
                "layout": f"{FILES_PARTITIONS} partitions (part=P), n/{FILES_PARTITIONS} files "
                "each",
                "runner": "native",
                **{k: v for k, v in native["context"].items() if "ms) files" in k},
            },
            "notes": [
                "Planning ('plan only') costs the same as raw Daft's glob; the gap is in "
                "execution. FilesSource (src/neuralake/tables/daft.py) yields one Python "
                "DataSourceTask per file, building a one-row partition RecordBatch from "
                "pyarrow and filtering it for every file (see the get_tasks profile), while "
                "daft.read_parquet builds its scan tasks natively. Building the partition "
                "batch once per partition value (10 here, not 1,000) and testing the partition "
                "filter once per value would remove most of the per-file cost; handing Daft "
                "the file list in one native scan would remove the rest.",
            ],
            "rows": pick(native["rows"], "files:"),
        },
    }


def run() -> dict[str, Any]:
    """All sections as one (for ``bench.run_all``)."""
    sections = run_sections()
    context: dict[str, Any] = {}
    for s in sections.values():
        context.update(s.get("context", {}))
    return {
        "title": "Daft engine (engine='daft') vs raw Daft",
        "context": context,
        "notes": [n for s in sections.values() for n in s.get("notes", [])],
        "rows": [r for s in sections.values() for r in s["rows"]],
    }


def readme_snippet(sections: dict[str, dict[str, Any]]) -> str:
    """Proposed rows for the README's Benchmarks table, from this run's medians."""
    rows = {r.case: r for s in sections.values() for r in s["rows"]}
    load = sections["daft_delta"]["context"]["load average (1/5/15 min) before / after"]

    def ms(x: float) -> str:
        return f"{x * 1000:,.0f} ms" if x >= 1 else f"{x * 1000:.1f} ms"

    out = [
        "# Proposed README rows: the Daft engine",
        "",
        "| what (TPC-H SF1 unless noted) | neuralake | raw library | ratio | target |",
        "|---|---:|---:|---:|---|",
    ]
    for runner in ("native", "ray"):
        where = "native runner" if runner == "native" else "Ray (local, 2 CPUs)"
        for q in ("Q1", "Q6"):
            r = rows[f"[{runner}] {q}: catalog daft vs raw daft"]
            p = rows[f"[{runner}] {q}: catalog daft vs catalog polars"]
            raw = "`daft.read_deltalake`" if (runner, q) == ("native", "Q1") else "Daft"
            out.append(
                f'| `engine="daft"`, Delta `lineitem`: TPC-H {q}, {where} '
                f"| {ms(r.catalog_s)} | {ms(r.baseline_s)} ({raw}) | {r.ratio:.2f} "
                f"| ≤ 1.10 (Polars path: {ms(p.baseline_s)}) |"
            )
    for runner in ("native", "ray"):
        key = f"[{runner}] S3 {s3_bench.KEY} = {s3_bench.PROBE}: catalog daft vs raw daft hive"
        r = next(v for k, v in rows.items() if k.startswith(key))
        out.append(
            f'| `engine="daft"`, hive Parquet on S3 (moto), 1,250 partitions, one partition'
            f"{'' if runner == 'native' else ', Ray'} | {ms(r.catalog_s)} | {ms(r.baseline_s)} "
            f"(`daft.read_parquet(root/**, hive_partitioning=True).where(...)`) "
            f"| {r.ratio:.2f} ({1 / r.ratio:.0f}x faster) | — |"
        )
    for n in FILE_COUNTS:
        r = rows[f"[native] {n} files: sum(id), plan + run"]
        out.append(
            f'| `engine="daft"`, local hive Parquet, {n:,} small files: `sum(id)` '
            f"| {ms(r.catalog_s)} | {ms(r.baseline_s)} (`daft.read_parquet` glob) "
            f"| {r.ratio:.2f} | — |"
        )
    out += [
        "",
        f"Load average (1/5/15 min) before / after the run: {load} (2 cores, shared). "
        "Details: `bench/results/daft.md`.",
        "",
        "## bench/README.md table row",
        "",
        README_ROW,
        "",
    ]
    return "\n".join(out)


README_ROW = (
    '| `daft_bench` | `engine="daft"`: TPC-H Q1/Q6 on Delta SF1 lineitem (native runner and '
    "a local Ray cluster, one child process each); one partition of the 1,250-partition S3 "
    "hive table; full reads of 10/100/1,000-file hive tables | `daft.read_deltalake(path)` + "
    "the same expressions (and the Polars path); `daft.read_parquet(root/**, "
    "hive_partitioning=True).where(...)`; `daft.read_parquet` glob | Q1/Q6 ratio <= 1.10 |"
)

REPRODUCE = """
## Reproduce

```bash
.venv/bin/python -m bench.daft_bench      # parent: data, moto server, one child per runner
# one runner alone (parts: delta, s3 (needs --endpoint), files):
DAFT_PROGRESS_BAR=0 .venv/bin/python -m bench.daft_bench --runner native --out /tmp/n.json \\
    --parts delta,files
```

Data: TPC-H SF1 from tpchgen-cli under `bench/data/lake` (shared with `delta_bench`), the
1,250-partition orders dataset of `s3_bench` (uploaded to a fresh moto server each run) and
`bench/data/daft_files_{10,100,1000}` (written on the first run).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", choices=["native", "ray"], help="child mode: one runner")
    parser.add_argument("--out", type=Path, help="child mode: JSON output file")
    parser.add_argument("--endpoint", help="child mode: moto S3 endpoint for the S3 case")
    parser.add_argument(
        "--parts", default="delta,s3,files,profile", help="child mode: what to measure"
    )
    args = parser.parse_args(argv)
    if args.runner:
        if args.out is None:
            parser.error("--runner needs --out")
        return child(args.runner, args.out, args.endpoint, args.parts.split(","))
    sections = run_sections()
    json_path, md_path = write_results("daft", sections)
    md_path.write_text(md_path.read_text() + REPRODUCE)
    (RESULTS / "daft_readme_snippet.md").write_text(readme_snippet(sections))
    print(summary(sections))
    print(f"results: {json_path} {md_path} (see also {RESULTS / 'daft_readme_snippet.md'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
