"""JSON export: versioned, deterministic, Delta freshness, readable schemas, broken tables."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from neuralake import (
    Catalog,
    Database,
    Filter,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
)
from neuralake.metadata import FORMAT_VERSION, readable_type

NESTED = pa.schema(
    [
        ("id", pa.int64()),
        ("tags", pa.list_(pa.string())),
        ("address", pa.struct([("city", pa.string()), ("zip", pa.int32())])),
        ("items", pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int16())]))),
        ("price", pa.decimal128(12, 2)),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("day", pa.date32()),
        ("ok", pa.bool_()),
    ]
)


def nested_rows() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2],
            "tags": [["a"], []],
            "address": [{"city": "Oslo", "zip": 150}, {"city": "Lyon", "zip": 69001}],
            "items": [[{"sku": "x", "qty": 1}], []],
            "price": pa.array([Decimal("1.50"), Decimal("2.25")], pa.decimal128(12, 2)),
            "ts": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * 2, pa.timestamp("us", tz="UTC")
            ),
            "day": [dt.date(2024, 1, 1)] * 2,
            "ok": [True, False],
        },
        schema=NESTED,
    )


def build_catalog(backend: Any) -> Catalog:
    delta_uri = backend.write_delta(nested_rows(), "events")
    backend.write_delta(nested_rows(), "events")  # version 1
    pq_uri = backend.write_hive_polars(pl.DataFrame({"k": [1, 2], "p": ["a", "b"]}), "parts", ["p"])

    def nation() -> pl.LazyFrame:
        """The nations.

        With a *Markdown* body.
        """
        return pl.LazyFrame({"n_nationkey": [0, 1], "n_name": ["ALGERIA", "ARGENTINA"]})

    tables = [
        NeuralakeDeltaTable(
            "events",
            delta_uri,
            schema=NESTED,
            description="Event log.",
            owner="platform",
            tags=["core", "events"],
            column_docs={"id": "Event id"},
            docs_filters=[Filter("id", ">", 0)],
            docs_columns=["id", "tags"],
            extra={"latency_info": "5 min", "example_notebook": "nb.ipynb"},
        ),
        ParquetTable(
            "parts",
            pq_uri,
            partitioning=[Partition("p")],
            docs_filters=[Filter("p", "=", "a")],
        ),
        NeuralakeDeltaTable("ghost", backend.uri("ghost_table")),
        ParquetTable("ghost_pq", backend.uri("ghost_parquet")),
        FunctionTable(nation, owner="geo"),
        FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="old", deprecated="Use nation."),
    ]
    return Catalog(
        {"tpch": Database(tables[:2] + tables[4:]), "broken": Database(tables[2:4])},
        name="exported",
        storage=backend.storage,
    )


def test_export_is_versioned_and_byte_identical(backend: Any, tmp_path: Path) -> None:
    cat = build_catalog(backend)
    first, second = tmp_path / "a" / "catalog.json", tmp_path / "b" / "catalog.json"
    returned = cat.export_metadata(first)
    cat.export_metadata(second)
    assert first.read_bytes() == second.read_bytes()
    assert not list(first.parent.glob("*.tmp"))
    text = first.read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == ["format_version", "catalog", "databases", "tables"]
    assert data["format_version"] == FORMAT_VERSION == 1
    assert data["catalog"] == "exported"
    assert data["databases"] == ["broken", "tpch"]
    assert [t["qualified_name"] for t in data["tables"]] == [
        "broken.ghost",
        "broken.ghost_pq",
        "tpch.events",
        "tpch.nation",
        "tpch.old",
        "tpch.parts",
    ]
    assert data == json.loads(json.dumps(returned, default=str))


def test_export_delta_freshness_schema_and_source(backend: Any, tmp_path: Path) -> None:
    cat = build_catalog(backend)
    data = json.loads(
        Path(cat.export_metadata(tmp_path / "c.json") and tmp_path / "c.json").read_text()
    )
    tables = {t["qualified_name"]: t for t in data["tables"]}

    events = tables["tpch.events"]
    assert events["error"] is None
    fresh = events["freshness"]
    assert list(fresh) == ["version", "timestamp", "operation", "num_files", "size_bytes"]
    assert fresh["version"] == 1
    assert fresh["operation"] == "WRITE"
    assert fresh["num_files"] == 2
    assert fresh["size_bytes"] > 0
    assert dt.datetime.fromisoformat(fresh["timestamp"]).tzinfo is not None
    assert [(c["name"], c["type"]) for c in events["columns"]] == [
        ("id", "int64"),
        ("tags", "list<string>"),
        ("address", "struct<city: string, zip: int32>"),
        ("items", "list<struct<sku: string, qty: int16>>"),
        ("price", "decimal(12, 2)"),
        ("ts", "datetime[us, UTC]"),
        ("day", "date"),
        ("ok", "bool"),
    ]
    assert events["columns"][0]["description"] == "Event id"
    assert events["type"] == "delta"
    assert events["location"] == backend.uri("events")
    assert events["owner"] == "platform"
    assert events["tags"] == ["core", "events"]
    assert events["docs_filters"] == [{"column": "id", "op": ">", "value": 0}]
    assert events["docs_columns"] == ["id", "tags"]
    assert events["extra"] == {"example_notebook": "nb.ipynb", "latency_info": "5 min"}
    source = events["source"]
    assert source["module"] == __name__
    assert source["qualname"] == "events"
    assert source["file"] == __file__
    assert isinstance(source["line"], int)
    assert source["line"] > 0

    nation = tables["tpch.nation"]
    assert nation["type"] == "function"
    assert nation["description"] == "The nations.\n\nWith a *Markdown* body."
    assert nation["freshness"] is None
    assert nation["error"] is None
    assert nation["source"]["qualname"].endswith("build_catalog.<locals>.nation")
    assert [c["type"] for c in nation["columns"]] == ["int64", "string"]

    parts = tables["tpch.parts"]
    assert parts["partitions"] == ["p"]
    assert parts["partitioning_scheme"] == "hive"
    assert [(c["name"], c["partition"]) for c in parts["columns"]] == [("k", False), ("p", True)]
    assert tables["tpch.old"]["deprecated"] == "Use nation."


def test_broken_tables_get_an_error_entry(backend: Any, tmp_path: Path) -> None:
    cat = build_catalog(backend)
    data = cat.export_metadata(tmp_path / "d.json")
    tables = {t["qualified_name"]: t for t in data["tables"]}
    ghost = tables["broken.ghost"]
    assert ghost["error"].startswith("StorageError: Table 'broken.ghost': no Delta table at")
    assert ghost["freshness"] is None
    assert ghost["columns"] is None
    ghost_pq = tables["broken.ghost_pq"]
    assert ghost_pq["error"].startswith("StorageError: Table 'broken.ghost_pq': no data at")
    assert tables["tpch.events"]["error"] is None


def test_export_without_freshness_and_without_path(backend: Any) -> None:
    cat = build_catalog(backend)
    data = cat.export_metadata(include_freshness=False)
    tables = {t["qualified_name"]: t for t in data["tables"]}
    assert tables["tpch.events"]["freshness"] is None
    assert tables["tpch.events"]["error"] is None
    assert tables["broken.ghost"]["error"] is not None  # the schema could not be read


@pytest.mark.s3
def test_export_contains_no_storage_settings(s3_backend: Any, tmp_path: Path) -> None:
    cat = build_catalog(s3_backend)
    text = json.dumps(cat.export_metadata(tmp_path / "e.json"))
    assert s3_backend.storage.endpoint_url not in text
    assert "secret" not in text.lower()
    assert "aws_" not in text


@pytest.mark.parametrize(
    ("dtype", "text"),
    [
        (pl.Int8, "int8"),
        (pl.UInt64, "uint64"),
        (pl.Float32, "float32"),
        (pl.String, "string"),
        (pl.Boolean, "bool"),
        (pl.Binary, "binary"),
        (pl.Date, "date"),
        (pl.Time, "time"),
        (pl.Null, "null"),
        (pl.Categorical(), "categorical"),
        (pl.Datetime("ns"), "datetime[ns]"),
        (pl.Datetime("ms", "Europe/Oslo"), "datetime[ms, Europe/Oslo]"),
        (pl.Duration("us"), "duration[us]"),
        (pl.Decimal(10, 3), "decimal(10, 3)"),
        (pl.Array(pl.Int32, 3), "array<int32, 3>"),
        (pl.List(pl.List(pl.Float64)), "list<list<float64>>"),
        (
            pl.Struct({"a": pl.List(pl.Struct({"b": pl.String})), "c": pl.Int64}),
            "struct<a: list<struct<b: string>>, c: int64>",
        ),
    ],
)
def test_readable_type(dtype: pl.DataType, text: str) -> None:
    assert readable_type(dtype) == text


def test_readable_types_are_cached_per_distinct_type() -> None:
    """Types Polars calls equal (a class and its instance, nested time units) keep their own
    names when the cache is warmed in either order; types with parameters are never named by
    their class alone."""
    from neuralake.metadata import readable_type

    types = [pl.Datetime("ms"), pl.Datetime("us", "UTC"), pl.Datetime, pl.List(pl.Datetime("ns")),
             pl.List(pl.Datetime("ms")), pl.Struct({"a": pl.Duration("ms")}),
             pl.Struct({"a": pl.Duration("us")}), pl.Decimal(12, 2), pl.Decimal(10, 2),
             pl.Int64(), pl.Int64, pl.Enum(["a"]), pl.Enum(["b", "c"]), pl.List(pl.Int64())]  # fmt: skip
    want = ["datetime[ms]", "datetime[us, UTC]", "datetime", "list<datetime[ns]>",
            "list<datetime[ms]>", "struct<a: duration[ms]>", "struct<a: duration[us]>",
            "decimal(12, 2)", "decimal(10, 2)", "int64", "int64", "enum", "enum",
            "list<int64>"]  # fmt: skip
    assert [readable_type(t) for t in types] == want
    assert [readable_type(t) for t in reversed(types)] == want[::-1]
