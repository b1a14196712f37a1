"""Errors by type: delta-rs exceptions and OS error kinds mapped to neuralake errors, and bad
input refused before delta-rs sees it (delta-rs reports it only as a generic ``DeltaError``)."""

from __future__ import annotations

import datetime as dt
import errno

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import (
    CommitFailedError,
    DeltaError,
    DeltaProtocolError,
)
from deltalake.exceptions import SchemaMismatchError as DeltaSchemaMismatch
from deltalake.exceptions import TableNotFoundError as DeltaNotFound

from neuralake import (
    ColumnNotFoundError,
    CommitConflictError,
    InvalidParameterError,
    NeuralakeDeltaTable,
    SchemaMismatchError,
    StorageConfig,
    StorageError,
    UnsupportedFeatureError,
)
from neuralake.tables.delta.errors import map_error
from neuralake.tables.delta.target import DeltaTarget

from .conftest import Backend

SECRET = "s3cr3t-key"
TARGET = DeltaTarget(
    uri="s3://lake/db/t",
    label="db.t",
    name="t",
    cfg=StorageConfig(access_key_id="AKIA", secret_access_key=SECRET),
)


@pytest.mark.parametrize(
    ("raised", "expected", "words"),
    [
        (CommitFailedError("version 3 exists"), CommitConflictError, "concurrent commit"),
        (DeltaSchemaMismatch("fields differ"), SchemaMismatchError, "schema_mode='merge'"),
        (DeltaNotFound("no log"), StorageError, "no Delta table at s3://lake/db/t"),
        (DeltaProtocolError("bad json"), StorageError, "Upgrade deltalake"),
        (OSError(errno.ENOSPC, "No space left"), StorageError, "the storage is full"),
        (OSError(errno.EDQUOT, "Quota"), StorageError, "the storage is full"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), StorageError, "unreachable"),
        (TimeoutError("timed out"), StorageError, "unreachable"),
        (OSError(errno.EHOSTUNREACH, "no route"), StorageError, "unreachable"),
        (PermissionError(errno.EACCES, "denied"), StorageError, "permission denied"),
        (OSError(errno.EIO, "I/O error"), StorageError, "I/O error"),
        (OSError("Generic S3 error: parse failure"), StorageError, "reachable, writable"),
        # The words "parse" or "schema" in a generic error do not make it bad input.
        (DeltaError("Failed to parse parquet: No space left"), StorageError, "free space"),
        (DeltaError("Schema error: cast"), StorageError, "free space"),
        (ValueError("invalid argument"), InvalidParameterError, "refused an argument"),
        (OverflowError("can't convert negative int"), InvalidParameterError, "refused"),
        (NotImplementedError("z-order on map columns"), UnsupportedFeatureError, "not support"),
    ],
)
def test_backend_errors_are_mapped_by_type(
    raised: Exception, expected: type[Exception], words: str
) -> None:
    mapped = map_error(raised, TARGET, "append")
    assert type(mapped) is expected
    assert str(mapped).startswith("Table 'db.t': ")
    assert words in str(mapped)


def test_mapped_messages_are_redacted_and_on_one_line() -> None:
    raised = OSError(f"Error performing PUT\n  \x1b[31m↳\x1b[0m key={SECRET} refused")
    text = str(map_error(raised, TARGET, "append"))
    assert SECRET not in text
    assert "***" in text
    assert "\n" not in text
    assert "\x1b" not in text


def orders(backend: Backend, **kw: object) -> NeuralakeDeltaTable:
    return NeuralakeDeltaTable(
        "orders",
        backend.uri("orders"),
        schema=pa.schema([("id", pa.int64()), ("day", pa.date32()), ("amount", pa.float64())]),
        partition_by=["day"],
        storage=backend.storage,
        **kw,  # type: ignore[arg-type]
    )


DAY = dt.date(2024, 1, 1)
ROW = pl.DataFrame({"id": [1], "day": [DAY], "amount": [1.0]})


@pytest.mark.parametrize(
    ("predicate", "words"),
    [
        ("id = = 1", "is not valid SQL"),
        ("id >", "is not valid SQL"),
        ("", "must be a non-empty SQL predicate"),
        ("idd = 1", "unknown column 'idd'. Did you mean 'id'?"),
        ("t.id = 1", "refers to 't.id'"),
        ("id IN (SELECT 1)", "without statements or subqueries"),
        ("id = 1; DROP TABLE orders", "must be one boolean expression"),
    ],
)
def test_bad_overwrite_predicates_are_refused_before_writing(
    local_backend: Backend, predicate: str, words: str
) -> None:
    table = orders(local_backend)
    assert table.write(ROW) == 0
    with pytest.raises(InvalidParameterError, match=r"^Table 'orders': ") as err:
        table.write(ROW, "overwrite", predicate=predicate)
    assert words in str(err.value)
    assert err.value.__cause__ is None or not isinstance(err.value.__cause__, DeltaError)
    assert table.delta_table().version() == 0


def test_predicate_syntax_delta_rs_accepts(local_backend: Backend) -> None:
    table = orders(local_backend)
    table.write(
        pl.DataFrame({"id": [1, 2], "day": [DAY, DAY.replace(day=2)], "amount": [1.0, 2.0]})
    )
    # Strings compared with a date column, quoted and backticked names, IN lists.
    assert table.write(ROW, "overwrite", predicate="day = '2024-01-01'") == 1
    assert table.write(ROW, "overwrite", predicate="\"day\" IN ('2024-01-01')") == 2
    assert table.write(ROW, "overwrite", predicate="`id` = 1 AND amount >= 1") == 3
    with pytest.raises(InvalidParameterError, match=r"rows outside the predicate.*1 of 1 rows"):
        table.write(ROW, "overwrite", predicate="day > '2024-01-01'")
    assert sorted(table().collect()["id"].to_list()) == [1, 2]


def test_check_constraints_are_checked_on_the_rows(local_backend: Backend) -> None:
    table = orders(local_backend, unique_columns=["id"])
    table.write(ROW)
    DeltaTable(table.uri).alter.add_constraint({"positive": "amount > 0"})
    bad = ROW.with_columns(amount=pl.lit(-1.0))
    with pytest.raises(InvalidParameterError, match=r"1 of 1 rows violate constraint 'positive'"):
        table.write(bad)
    with pytest.raises(InvalidParameterError, match="violate constraint 'positive'"):
        table.upsert(bad)
    assert table.write(ROW.with_columns(id=pl.lit(2))) == 2  # version 1 added the constraint


def test_stored_table_differences_are_schema_mismatches(local_backend: Backend) -> None:
    declared = orders(local_backend)
    declared.write(ROW)
    repartitioned = NeuralakeDeltaTable(
        "orders", declared.uri, schema=declared.declared_schema, partition_by=["id"]
    )
    with pytest.raises(SchemaMismatchError, match=r"declared partitioning \[id\] but the stored"):
        repartitioned.write(ROW)
    undeclared = NeuralakeDeltaTable("orders", declared.uri)
    with pytest.raises(SchemaMismatchError, match="column 'amount' is string, stored float64"):
        undeclared.write(ROW.with_columns(amount=pl.lit("x")))
    with pytest.raises(SchemaMismatchError, match="column 'note' is not in the stored table"):
        undeclared.write(ROW.with_columns(note=pl.lit("x")))
    assert undeclared.write(ROW.with_columns(amount=pl.lit(2, pl.Int32))) == 1  # safe cast
    assert declared.delta_table().version() == 1


def test_merge_delete_predicate_is_checked(local_backend: Backend) -> None:
    table = orders(local_backend, unique_columns=["id"])
    table.write(ROW)
    with pytest.raises(InvalidParameterError, match=r"unknown column 'dya'\. Did you mean 'day'"):
        table.merge(ROW, delete_not_matched_by_source="t.dya = '2024-01-01'")
    with pytest.raises(InvalidParameterError, match=r"refers to 's\.day'; use t\."):
        table.merge(ROW, delete_not_matched_by_source="s.day = '2024-01-01'")
    with pytest.raises(InvalidParameterError, match="is not valid SQL"):
        table.merge(ROW, delete_not_matched_by_source="t.day = ")
    assert table.delta_table().version() == 0


def test_bad_maintenance_arguments(local_backend: Backend) -> None:
    table = orders(local_backend)
    table.write(ROW)
    with pytest.raises(InvalidParameterError, match="cannot z-order by partition column"):
        table.optimize(z_order=["day"])
    with pytest.raises(ColumnNotFoundError, match="no column 'nope'"):
        table.optimize(z_order=["nope"])
    with pytest.raises(InvalidParameterError, match="target_size must be a positive"):
        table.optimize(target_size=-1)
    with pytest.raises(InvalidParameterError, match="retention_hours must be a whole number"):
        table.vacuum(-1)
    with pytest.raises(InvalidParameterError, match="target_file_size must be a positive"):
        table.write(ROW, target_file_size=0)
    with pytest.raises(InvalidParameterError, match=r"has no version 5 \(versions 0\.\.0\)"):
        table.restore(5)
    with pytest.raises(InvalidParameterError, match="restore takes a version number"):
        table.restore(1.5)
    with pytest.raises(InvalidParameterError, match="limit must be an int"):
        table.history("2")  # type: ignore[arg-type]


def test_vacuum_minimum_comes_from_the_table(local_backend: Backend) -> None:
    table = orders(local_backend)
    table.write(ROW)
    DeltaTable(table.uri).alter.set_table_properties(
        {"delta.deletedFileRetentionDuration": "interval 2 hours"}
    )
    with pytest.raises(InvalidParameterError, match="below the table's minimum of 2 hours"):
        table.vacuum(1)
    assert table.vacuum(2) == []


def test_unreachable_endpoint_is_a_storage_error() -> None:
    dead = StorageConfig(
        endpoint_url="http://127.0.0.1:9",
        access_key_id="k",
        secret_access_key=SECRET,
        allow_http=True,
        timeout_seconds=1,
    )
    table = NeuralakeDeltaTable("far", "s3://nowhere/far", storage=dead)
    for call in (table.commits, lambda: table.write(ROW)):
        with pytest.raises(StorageError, match=r"^Table 'far': ") as err:
            call()
        assert SECRET not in str(err.value)
