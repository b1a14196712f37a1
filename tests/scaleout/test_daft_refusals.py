"""Tables Daft cannot read correctly are refused by name, before any row is returned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

from neuralake import (
    Catalog,
    Database,
    Filter,
    InvalidFilterError,
    InvalidParameterError,
    NeuralakeDeltaTable,
    ParquetTable,
    UnsupportedFeatureError,
)

ROWS = pl.DataFrame({"id": [1, 2, 3], "p": ["x", "y", "x"], "v": [0.5, 1.0, 1.5]})
SPARK = Path(__file__).parents[1] / "corpus" / "spark" / "data"


def read(table: Any, **kwargs: Any) -> Any:
    catalog = Catalog({"db": Database([table])})
    return catalog.table(f"db.{table.name}", engine="daft", **kwargs)


def rewrite_log(root: Path, edit: Any) -> None:
    for f in sorted((root / "_delta_log").glob("*.json")):
        actions = [json.loads(line) for line in f.read_text().splitlines() if line]
        f.write_text("".join(json.dumps(edit(a)) + "\n" for a in actions))


def test_column_mapping_is_refused(tmp_path: Path) -> None:
    write_deltalake(tmp_path / "cm", ROWS, configuration={"delta.columnMapping.mode": "name"})
    with pytest.raises(UnsupportedFeatureError, match=r"(?s)columnMapping.*engine='polars'"):
        read(NeuralakeDeltaTable("cm", str(tmp_path / "cm")))


def test_deletion_vectors_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "dv"
    write_deltalake(root, ROWS, configuration={"delta.enableDeletionVectors": "true"})
    assert "deletionVectors" in (DeltaTable(str(root)).protocol().reader_features or [])
    with pytest.raises(UnsupportedFeatureError, match=r"(?s)deletion vectors.*engine='polars'"):
        read(NeuralakeDeltaTable("dv", str(root)))


def test_unknown_reader_features_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "f"
    write_deltalake(root, ROWS)

    def edit(action: dict[str, Any]) -> dict[str, Any]:
        if "protocol" in action:
            return {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                                 "readerFeatures": ["typeWidening"], "writerFeatures": ["typeWidening"]}}  # fmt: skip
        return action

    rewrite_log(root, edit)
    with pytest.raises(UnsupportedFeatureError, match="typeWidening"):
        read(NeuralakeDeltaTable("f", str(root)))


def test_keyed_tables_read_while_unique_by_construction(tmp_path: Path) -> None:
    table = NeuralakeDeltaTable("k", str(tmp_path / "k"), unique_columns=["id"])
    table.write(ROWS)
    table.write(pl.DataFrame({"id": [4], "p": ["z"], "v": [9.5]}), mode="append")  # keys checked
    got = pl.from_arrow(read(table).to_arrow()).sort("id")  # type: ignore[union-attr]
    assert got.equals(table.scan().collect().sort("id"))
    write_deltalake(table.uri, pl.DataFrame({"id": [2], "p": ["q"], "v": [0.0]}).to_arrow(),
                    mode="append")  # fmt: skip
    with pytest.raises(UnsupportedFeatureError, match=r"(?s)unique_columns.*engine='polars'"):
        read(table)


def test_keyed_parquet_tables_are_refused(tmp_path: Path) -> None:
    ROWS.write_parquet(tmp_path / "kp" / "f.parquet", mkdir=True)
    with pytest.raises(UnsupportedFeatureError, match="unique_columns"):
        read(ParquetTable("kp", str(tmp_path / "kp"), unique_columns=["id"]))


def test_spark_legacy_calendar_is_refused_and_int96_reads_exactly() -> None:
    with pytest.raises(UnsupportedFeatureError, match=r"(?s)legacy calendar.*engine='polars'"):
        read(ParquetTable("legacy", str(SPARK / "parquet_int96_legacy")))
    table = ParquetTable("int96", str(SPARK / "parquet_int96"))
    got = pl.from_arrow(read(table).to_arrow())
    want = Catalog({"db": Database([table])}).table("db.int96").collect()
    assert got.sort(got.columns).equals(want.sort(want.columns))  # type: ignore[union-attr]


def test_bad_filters_and_parameters_are_refused_before_reading(tmp_path: Path) -> None:
    write_deltalake(tmp_path / "t", ROWS.to_arrow())
    table = NeuralakeDeltaTable("t", str(tmp_path / "t"), schema=ROWS.schema)
    with pytest.raises(InvalidFilterError, match="Polars expression"):
        read(table, filters=pl.col("id") > 1)
    with pytest.raises(InvalidFilterError, match="nope"):
        read(table, filters=[Filter("nope", "=", 1)])
    with pytest.raises(InvalidFilterError):
        read(table, filters=[Filter("id", "=", "one")])
    with pytest.raises(InvalidParameterError, match="version= or as_of="):
        read(table, colour="red")
    with pytest.raises(InvalidParameterError, match="Unknown engine 'spark'"):
        Catalog({"db": Database([table])}).table("db.t", engine="spark")  # type: ignore[call-overload]


def test_import_neuralake_loads_neither_daft_nor_ray() -> None:
    code = "import sys, neuralake; print(sorted(m for m in ('daft', 'ray') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
