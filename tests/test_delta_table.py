"""NeuralakeDeltaTable on every backend: laziness, pushdown, time travel, schema, dedup, errors."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from neuralake import (
    ColumnNotFoundError,
    Filter,
    InvalidFilterError,
    InvalidParameterError,
    NeuralakeDeltaTable,
    SchemaMismatchError,
    StorageError,
)

V0 = pl.DataFrame(
    {
        "o_orderkey": [1, 2, 3, 4],
        "o_status": ["F", "O", "F", "P"],
        "o_total": [10.0, 20.0, 30.0, 40.0],
        "o_orderyear": [2020, 2020, 2021, 2021],
    }
)
V1 = pl.DataFrame(
    {
        "o_orderkey": [5, 6],
        "o_status": ["O", "F"],
        "o_total": [50.0, 60.0],
        "o_orderyear": [2022, 2022],
    }
)


def orders(backend: Any, pause: float = 0.0, **kwargs: Any) -> NeuralakeDeltaTable:
    """A two-version Delta table partitioned by year (version 0: V0, version 1: V0 + V1)."""
    backend.write_delta(V0, "orders", partition_by=["o_orderyear"])
    time.sleep(pause)
    uri = backend.write_delta(V1, "orders", partition_by=["o_orderyear"])
    return NeuralakeDeltaTable("orders", uri, partition_by=["o_orderyear"], **kwargs)


def read(backend: Any, table: NeuralakeDeltaTable, **kwargs: Any) -> pl.LazyFrame:
    return backend.catalog([table], db="tpch").table(f"tpch.{table.name}", **kwargs)


def test_read_is_lazy_and_complete(backend: Any) -> None:
    table = orders(backend)
    lf = read(backend, table)
    assert isinstance(lf, pl.LazyFrame)
    assert_frame_equal(lf.collect(), pl.concat([V0, V1]), check_row_order=False)


def test_partition_filter_skips_files(backend: Any, scanned: Any) -> None:
    table = orders(backend)
    full = sum(count for _, count in scanned(read(backend, table)))
    assert full == 3  # one file per year partition
    lf = read(backend, table, filters=[Filter("o_orderyear", "=", 2022)])
    assert isinstance(lf, pl.LazyFrame)
    plan = lf.explain()
    assert "SELECTION" in plan
    assert "o_orderyear" in plan.split("SELECTION", 1)[1]
    scans = scanned(lf)
    assert sum(count for _, count in scans) == 1
    assert "o_orderyear=2022" in scans[0][0]
    assert sorted(lf.collect()["o_orderkey"].to_list()) == [5, 6]


def test_statistics_filter_is_pushed_into_the_scan(backend: Any, scanned: Any) -> None:
    table = orders(backend)
    lf = read(
        backend, table, filters=[Filter("o_orderkey", "=", 5)], columns=["o_orderkey", "o_status"]
    )
    plan = lf.explain()
    scan_part = plan[plan.index("SCAN") :]
    assert (
        'SELECTION: col("o_orderkey") == 5' in scan_part
        or "o_orderkey" in scan_part.split("SELECTION")[1]
    )
    assert sum(count for _, count in scanned(lf)) == 1  # the other files' min/max exclude 5
    assert lf.collect().rows() == [(5, "O")]


def test_columns_and_filters(backend: Any) -> None:
    table = orders(backend)
    lf = read(
        backend,
        table,
        filters=[
            [Filter("o_status", "=", "F"), Filter("o_total", ">", 15.0)],
            [Filter("o_orderkey", "=", 2)],
        ],
        columns=["o_total", "o_orderkey"],
    )
    got = lf.collect().sort("o_orderkey")
    assert got.columns == ["o_total", "o_orderkey"]
    assert got.rows() == [(20.0, 2), (30.0, 3), (60.0, 6)]
    assert read(backend, table, filters="o_orderkey < 3 AND o_status = 'F'").collect()[
        "o_orderkey"
    ].to_list() == [1]


def test_version_time_travel(backend: Any) -> None:
    table = orders(backend)
    v0 = read(backend, table, version=0).collect()
    assert_frame_equal(v0, V0, check_row_order=False)
    assert read(backend, table, version=1).collect().height == 6
    got = read(backend, table, version=0, filters=[Filter("o_orderyear", "=", 2022)]).collect()
    assert got.height == 0


def test_as_of_time_travel_datetime_and_iso_string(backend: Any) -> None:
    # delta-rs resolves as_of against the commit files' modification times, which S3 keeps to
    # the second: commits 1.5 s apart, and a time just before the second of the later one.
    table = orders(backend, pause=1.5)
    history = table.history(storage=backend.storage).sort("version")
    assert history["version"].to_list() == [0, 1]
    assert history["operation"].to_list() == ["WRITE", "WRITE"]
    t0, t1 = history["timestamp"].to_list()
    assert t0 < t1
    between = t1.replace(microsecond=0) - dt.timedelta(milliseconds=1)
    assert between > t0
    assert read(backend, table, as_of=between).collect().height == 4
    assert read(backend, table, as_of=t1 + dt.timedelta(milliseconds=500)).collect().height == 6
    assert read(backend, table, as_of=between.isoformat()).collect().height == 4
    # A naive datetime / ISO string is taken as UTC.
    naive = between.astimezone(dt.UTC).replace(tzinfo=None)
    assert read(backend, table, as_of=naive).collect().height == 4
    assert read(backend, table, as_of=naive.isoformat()).collect().height == 4
    assert read(backend, table, as_of=dt.datetime.now(dt.UTC)).collect().height == 6


def test_bad_time_travel_arguments(backend: Any) -> None:
    table = orders(backend)
    with pytest.raises(InvalidParameterError, match="pass version= or as_of=, not both"):
        read(backend, table, version=0, as_of="2020-01-01")
    with pytest.raises(InvalidParameterError, match="version must be an int"):
        read(backend, table, version="0")
    with pytest.raises(InvalidParameterError, match="version must be an int"):
        read(backend, table, version=True)
    with pytest.raises(
        InvalidParameterError, match=r"'tpch\.orders' has no version 7 \(versions 0\.\.1\)"
    ):
        read(backend, table, version=7)
    with pytest.raises(InvalidParameterError, match=r"as_of='not a date' is not an ISO-8601 time"):
        read(backend, table, as_of="not a date")
    with pytest.raises(InvalidParameterError, match=r"only version= or as_of=.*'snapshot'"):
        read(backend, table, snapshot=1)


def test_normalises_to_declared_schema(backend: Any) -> None:
    stored = pa.table(
        {
            "o_status": pa.array(["F", "O"], pa.string()),
            "o_orderkey": pa.array([1, 2], pa.int32()),
            "o_small": pa.array([1.5, 2.5], pa.float32()),
        }
    )
    uri = backend.write_delta(stored, "norm")
    declared = pa.schema(
        [
            ("o_orderkey", pa.int64()),
            ("o_comment", pa.string()),
            ("o_status", pa.string()),
            ("o_small", pa.float64()),
            ("o_tags", pa.list_(pa.string())),
        ]
    )
    table = NeuralakeDeltaTable("norm", uri, schema=declared)
    expected_schema = pl.Schema(
        {
            "o_orderkey": pl.Int64,
            "o_comment": pl.String,
            "o_status": pl.String,
            "o_small": pl.Float64,
            "o_tags": pl.List(pl.String),
        }
    )
    lf = read(backend, table)
    assert lf.collect_schema() == expected_schema
    got = lf.collect().sort("o_orderkey")
    assert got.schema == expected_schema
    assert got.rows() == [(1, None, "F", 1.5, None), (2, None, "O", 2.5, None)]
    got = read(
        backend, table, filters=[Filter("o_orderkey", "=", 2)], columns=["o_status", "o_comment"]
    )
    assert got.collect().rows() == [("O", None)]
    with pytest.raises(InvalidFilterError, match="column 'o_comment' of type String"):
        read(backend, table, filters=[Filter("o_comment", "=", 1)])


@pytest.mark.parametrize(
    ("stored", "declared", "pattern"),
    [
        (pa.array(["1", "2"]), pl.Int64, "o_orderkey: stored string, declared int64"),
        (pa.array([1.5, 2.5]), pl.Int64, "o_orderkey: stored float64, declared int64"),
        (pa.array([1, 2]), pl.String, "o_orderkey: stored int64, declared string"),
        (pa.array([1, 2]), pl.Date, "o_orderkey: stored int64, declared date"),
    ],
)
def test_schema_that_cannot_be_cast_is_refused(
    backend: Any, stored: pa.Array, declared: Any, pattern: str
) -> None:
    uri = backend.write_delta(pa.table({"o_orderkey": stored, "x": [1, 2]}), "bad")
    table = NeuralakeDeltaTable("bad", uri, schema={"o_orderkey": declared, "x": pl.Int64})
    with pytest.raises(
        SchemaMismatchError, match=rf"'tpch\.bad'.*{pattern}.*Fix the declared schema"
    ):
        read(backend, table)


def test_unique_columns_keep_row_from_latest_commit(backend: Any) -> None:
    schema = {"k": pl.Int64, "v": pl.String, "year": pl.Int64}
    backend.write_delta(
        pl.DataFrame({"k": [1, 2, 3], "v": ["a0", "b0", "c0"], "year": [2020, 2020, 2021]}),
        "dedup",
        partition_by=["year"],
    )
    backend.write_delta(
        pl.DataFrame({"k": [1], "v": ["a1"], "year": [2021]}), "dedup", partition_by=["year"]
    )
    backend.write_delta(
        pl.DataFrame({"k": [2, 1], "v": ["b2", "a2"], "year": [2020, 2022]}),
        "dedup",
        partition_by=["year"],
    )
    uri = backend.write_delta(
        pl.DataFrame({"k": [3], "v": ["c3"], "year": [2019]}), "dedup", partition_by=["year"]
    )
    table = NeuralakeDeltaTable(
        "dedup", uri, schema=schema, partition_by=["year"], unique_columns=["k"]
    )
    got = read(backend, table).collect().sort("k")
    assert got.rows() == [(1, "a2", 2022), (2, "b2", 2020), (3, "c3", 2019)]
    assert read(backend, table, version=1).collect().sort("k")["v"].to_list() == ["a1", "b0", "c0"]
    # Filters apply to the deduplicated rows: an old version of a key never resurfaces.
    assert read(backend, table, filters=[Filter("v", "=", "a0")]).collect().height == 0
    got = read(backend, table, filters=[Filter("year", "=", 2020)]).collect()
    assert got.rows() == [(2, "b2", 2020)]
    got = read(backend, table, filters=[Filter("k", "=", 1)], columns=["v"]).collect()
    assert got.rows() == [("a2",)]


def test_missing_table_is_a_storage_error(backend: Any) -> None:
    table = NeuralakeDeltaTable("ghost", backend.uri("no_such_table"))
    with pytest.raises(
        StorageError, match=r"Table 'tpch\.ghost': no Delta table at .*no_such_table"
    ):
        read(backend, table)


def test_not_a_delta_table_is_a_storage_error(backend: Any) -> None:
    uri = backend.write_hive_polars(pl.DataFrame({"a": [1], "p": ["x"]}), "plain_parquet", ["p"])
    table = NeuralakeDeltaTable("plain", uri)
    with pytest.raises(StorageError, match=r"'tpch\.plain'"):
        read(backend, table)


def test_metadata_freshness_and_history(backend: Any) -> None:
    table = orders(backend, description="Orders.", owner="sales")
    cat = backend.catalog([table], db="tpch")
    meta = cat.describe_table("tpch.orders")
    assert meta.type == "delta"
    assert meta.partitions == ("o_orderyear",)
    assert meta.columns is not None
    assert [(c.name, c.type, c.partition) for c in meta.columns] == [
        ("o_orderkey", "int64", False),
        ("o_status", "string", False),
        ("o_total", "float64", False),
        ("o_orderyear", "int64", True),
    ]
    fresh = table.freshness(backend.storage)
    assert fresh.version == 1
    assert fresh.operation == "WRITE"
    assert fresh.num_files == 3
    assert fresh.size_bytes > 0
    assert fresh.timestamp is not None
    assert dt.datetime.fromisoformat(fresh.timestamp).tzinfo is not None
    history = table.history(limit=1, storage=backend.storage)
    assert history["version"].to_list() == [1]
    assert history.schema["timestamp"] == pl.Datetime("ms", "UTC")


def test_declared_partition_must_be_a_column() -> None:
    with pytest.raises(ColumnNotFoundError, match=r"Table 't' has no column 'year'"):
        NeuralakeDeltaTable("t", "lake/t", schema={"k": pl.Int64}, partition_by=["year"])


def test_delta_table_opens_the_log_at_table_time(backend: Any) -> None:
    table = orders(backend)
    lf = read(backend, table)
    # Later commits do not change a frame that was already planned (snapshot isolation).
    backend.write_delta(
        V1.with_columns(pl.col("o_orderkey") + 10), "orders", partition_by=["o_orderyear"]
    )
    assert lf.collect().height == 6
    assert read(backend, table).collect().height == 8
