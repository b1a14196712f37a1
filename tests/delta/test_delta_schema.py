"""Write-time schema checks, schema evolution and contract drift (`catalog.validate`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from neuralake import (
    Catalog,
    Database,
    FunctionTable,
    InvalidParameterError,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
    SchemaMismatchError,
    StorageError,
    TableExistsError,
)
from neuralake.contracts import ContractIssue, format_report

from .conftest import Backend

SCHEMA = pa.schema([("id", pa.int64()), ("day", pa.date32()), ("amount", pa.float64())])


def orders(backend: Backend, schema: pa.Schema = SCHEMA, **kw: object) -> NeuralakeDeltaTable:
    return NeuralakeDeltaTable(
        "orders",
        kw.pop("uri", None) or backend.uri("orders"),  # type: ignore[arg-type]
        schema=schema,
        partition_by=["day"],
        storage=backend.storage,
        **kw,  # type: ignore[arg-type]
    )


def test_mismatch_lists_every_difference(backend: Backend) -> None:
    table = orders(backend)
    bad = pl.DataFrame({"id": ["x"], "amount": [1.0], "note": ["hi"]})
    with pytest.raises(SchemaMismatchError) as err:
        table.write(bad)
    assert str(err.value) == (
        "Table 'orders': data does not match the declared schema: missing column 'day' (date); "
        "extra column 'note' (string) is not declared; column 'id' is string, declared int64 "
        "(no safe cast). Pass schema_mode='merge' to add new columns (then declare them)."
    )
    assert not table.exists()  # nothing was written


def test_safe_casts_are_applied(backend: Backend) -> None:
    table = orders(backend)
    df = pl.DataFrame(
        {"amount": [1, 2], "id": [1, 2], "day": [dt.date(2024, 1, 1)] * 2},
        schema={"amount": pl.Int32, "id": pl.Int32, "day": pl.Date},
    )
    assert table.write(df) == 0
    stored = table.discover_schema(table.resolve_storage())
    assert dict(stored) == {"id": pl.Int64, "day": pl.Date, "amount": pl.Float64}
    assert table().collect()["amount"].to_list() == [1.0, 2.0]


def test_schema_evolution_only_when_asked(backend: Backend) -> None:
    table = orders(backend)
    base = pl.DataFrame({"id": [1], "day": [dt.date(2024, 1, 1)], "amount": [1.0]})
    table.write(base)
    wider = base.with_columns(note=pl.lit("n"), id=pl.lit(2, dtype=pl.Int64))
    with pytest.raises(SchemaMismatchError, match="extra column 'note'"):
        table.write(wider)
    assert table.write(wider, schema_mode="merge") == 1
    catalog = Catalog({"shop": Database([table])})
    assert catalog.validate() == [
        ContractIssue("shop.orders", "extra_column", "note", None, "string")
    ]
    declared = orders(backend, SCHEMA.append(pa.field("note", pa.string())), uri=table.uri)
    assert Catalog({"shop": Database([declared])}).validate() == []
    assert declared().sort("id").collect()["note"].to_list() == [None, "n"]


def test_modes_and_create(backend: Backend) -> None:
    table = orders(backend)
    assert not table.exists()
    assert table.create() == 0
    assert table.exists()
    with pytest.raises(TableExistsError, match="already exists"):
        table.create()
    assert table.create(exist_ok=True) == 0
    row = pl.DataFrame({"id": [1], "day": [dt.date(2024, 1, 1)], "amount": [1.0]})
    with pytest.raises(TableExistsError):
        table.write(row, "error")
    assert table.write(row, "ignore") is None
    with pytest.raises(InvalidParameterError, match="predicate= only applies"):
        table.write(row, "append", predicate="id = 1")
    with pytest.raises(InvalidParameterError, match="rows outside the predicate"):
        table.write(row, "overwrite", predicate="id = 2")
    with pytest.raises(InvalidParameterError, match="mode must be one of"):
        table.write(row, "upsert")  # type: ignore[arg-type]


def test_merge_metrics_and_partition_restriction(backend: Backend) -> None:
    table = orders(backend, unique_columns=["id"])
    days = [dt.date(2024, 1, d) for d in (1, 2, 3)]
    table.write(pl.DataFrame({"id": [1, 2, 3], "day": days, "amount": [1.0, 2.0, 3.0]}))
    m = table.upsert(pl.DataFrame({"id": [1, 4], "day": [days[0]] * 2, "amount": [10.0, 4.0]}))
    assert (m.rows_updated, m.rows_inserted, m.rows_deleted) == (1, 1, 0)
    assert (m.files_added, m.files_removed) == (1, 1)
    assert m.files_skipped == 2  # the other two days were not read
    assert m.version == 1
    got = table().sort("id").collect()
    assert got["amount"].to_list() == [10.0, 2.0, 3.0, 4.0]
    m = table.merge(
        pl.DataFrame({"id": [1], "day": [days[0]], "amount": [11.0]}),
        delete_not_matched_by_source=f"t.day = '{days[0]}'",
    )
    assert (m.rows_updated, m.rows_deleted) == (1, 1)
    with pytest.raises(InvalidParameterError, match="duplicate keys"):
        table.upsert(pl.DataFrame({"id": [5, 5], "day": days[:2], "amount": [0.0, 0.0]}))


def test_time_travel_restore_and_vacuumed_versions(backend: Backend) -> None:
    table = orders(backend)
    day = dt.date(2024, 1, 1)
    for i in range(3):
        table.write(pl.DataFrame({"id": [i], "day": [day], "amount": [0.0]}), "overwrite")
    ts = table.history(1)["timestamp"][0]
    assert table(as_of=ts.isoformat()).collect()["id"].to_list() == [2]
    assert table(version=0).collect()["id"].to_list() == [0]
    assert table.restore(2).changed is False
    r = table.restore(0)
    assert (r.restored_version, r.version, r.changed) == (0, 3, True)
    assert (r.files_removed, r.files_restored) == (1, 1)  # version 2's file out, version 0's in
    assert table().collect()["id"].to_list() == [0]
    table.write(pl.DataFrame({"id": [9], "day": [day], "amount": [0.0]}), "overwrite")
    removed = table.vacuum(0, dry_run=False, enforce_retention=False)
    assert len(removed) == 3  # versions 0 (restored, then replaced), 1 and 2
    with pytest.raises(StorageError) as err:
        table(version=1).collect()
    assert "version 1 cannot be read" in str(err.value)
    assert str(err.value).endswith("The oldest readable version is 4.")
    with pytest.raises(InvalidParameterError, match="below the table's minimum"):
        table.vacuum(0)


def test_optimize_compacts(backend: Backend) -> None:
    table = orders(backend)
    day = dt.date(2024, 1, 1)
    for i in range(4):
        table.write(pl.DataFrame({"id": [i], "day": [day], "amount": [0.0]}))
    m = table.optimize()
    assert (m.files_removed, m.files_added, m.version) == (4, 1, 4)
    z = table.optimize(z_order=["id", "amount"])
    assert z.version == 5
    assert sorted(table().collect()["id"].to_list()) == [0, 1, 2, 3]


def test_validate_reports_drift(tmp_path: Path, local_backend: Backend) -> None:
    stored = orders(local_backend)
    stored.write(pl.DataFrame({"id": [1], "day": [dt.date(2024, 1, 1)], "amount": [1.0]}))
    drifted = NeuralakeDeltaTable(
        "drifted",
        stored.uri,
        schema={"id": pl.Int32, "day": pl.Date, "amount": pl.String, "region": pl.String},
        partition_by=["region"],
    )
    pq_root = tmp_path / "pq" / "p_brand=B1"
    pq_root.mkdir(parents=True)
    pl.DataFrame({"p_partkey": [1], "p_size": ["7"]}).write_parquet(pq_root / "0.parquet")
    part = ParquetTable(
        "part",
        str(tmp_path / "pq"),
        partitioning=[Partition("p_brand")],
        schema={"p_partkey": pl.Int64, "p_size": pl.Int64},
    )
    fn = FunctionTable(
        lambda: pl.LazyFrame({"x": [1]}), name="fn", schema={"x": pl.Int64, "y": pl.Int64}
    )
    missing = NeuralakeDeltaTable("missing", str(tmp_path / "nowhere"), schema={"a": pl.Int64})
    catalog = Catalog({"db": Database([stored, drifted, part, fn, missing])})
    issues = catalog.validate()
    assert [i.message() for i in issues] == [
        "db.drifted: declared partitioning [region] but storage is partitioned by [day]",
        "db.drifted: column 'region' is declared (string) but not in storage",
        "db.drifted: column 'id' is declared int32, storage has int64 (read with a safe cast)",
        "db.drifted: column 'amount' is declared string but storage has float64 (no safe cast)",
        "db.fn: column 'y' is declared (int64) but not in storage",
        f"db.missing: storage could not be inspected: Table 'db.missing': no Delta table at "
        f"{tmp_path}/nowhere. Check the uri, or create the table by writing to it.",
        "db.part: column 'p_size' is declared int64 but storage has string (no safe cast)",
    ]
    assert issues[2].severity == "warning"
    report = format_report(issues, catalog.list_tables())
    assert report.splitlines()[0] == "DRIFT  db.drifted"
    assert report.splitlines()[-1] == "5 tables checked: 4 with drift, 6 errors, 1 warnings"
    assert "ok     db.orders" in report
